package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/portal/store/migrations"
	"portcullis.dev/tenants/config"
)

// scoped restricts a query of tenant resources to one tenant. Every query of
// upstreams, routes and bindings goes through it.
func scoped(tx *gorm.DB, tenant *tenantRow) *gorm.DB {
	return tx.Where("tenant_id = ?", tenant.ID)
}

// read runs fn in one read transaction, so all its queries see one snapshot.
// PostgreSQL needs REPEATABLE READ for that; SQLite's WAL gives it anyway.
func (s *Store) read(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.dialect == migrations.Postgres {
		return s.reader.WithContext(ctx).Transaction(fn, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return s.reader.WithContext(ctx).Transaction(fn)
}

func findUpstream(tx *gorm.DB, tenant *tenantRow, name string) (*upstreamRow, error) {
	var row upstreamRow
	result := scoped(tx, tenant).Where("name = ?", name).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read upstream %q of tenant %q: %w", name, tenant.Slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "upstream", Name: name}
	}
	return &row, nil
}

func upstreamFromRow(row *upstreamRow) (config.Upstream, error) {
	upstream := config.Upstream{Name: row.Name, Targets: []config.Target{}}
	if err := json.Unmarshal([]byte(row.Targets), &upstream.Targets); err != nil {
		return config.Upstream{}, fmt.Errorf("decode targets of upstream %q: %w", row.Name, err)
	}
	return upstream, nil
}

func encodeJSON(value any) (string, error) {
	encoded, err := json.Marshal(value)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", value, err)
	}
	return string(encoded), nil
}

// CreateUpstream adds an upstream to the tenant.
func (s *Store) CreateUpstream(ctx context.Context, slug string, input config.Upstream) (config.Upstream, error) {
	if err := input.Validate(); err != nil {
		return config.Upstream{}, err
	}
	targets, err := encodeJSON(input.Targets)
	if err != nil {
		return config.Upstream{}, err
	}

	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		_, err := findUpstream(tx, tenant, input.Name)
		if err == nil {
			return change{}, &ConflictError{Message: fmt.Sprintf("upstream %q already exists in tenant %q: choose another name or update it with PUT", input.Name, slug)}
		}
		if !isNotFound(err) {
			return change{}, err
		}

		row := upstreamRow{TenantID: tenant.ID, Name: input.Name, Targets: targets}
		if err := tx.Create(&row).Error; err != nil {
			return change{}, fmt.Errorf("create upstream %q of tenant %q: %w", input.Name, slug, err)
		}
		return change{kind: KindCreate, resource: "upstream/" + input.Name}, nil
	})
	if err != nil {
		return config.Upstream{}, err
	}
	return input, nil
}

// ListUpstreams returns the tenant's upstreams ordered by name.
func (s *Store) ListUpstreams(ctx context.Context, slug string) ([]config.Upstream, error) {
	upstreams := []config.Upstream{}

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		upstreams, err = listUpstreams(tx, tenant)
		return err
	})
	if err != nil {
		return nil, err
	}
	return upstreams, nil
}

func listUpstreams(tx *gorm.DB, tenant *tenantRow) ([]config.Upstream, error) {
	var rows []upstreamRow
	if err := scoped(tx, tenant).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list upstreams of tenant %q: %w", tenant.Slug, err)
	}

	upstreams := make([]config.Upstream, 0, len(rows))
	for i := range rows {
		upstream, err := upstreamFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		upstreams = append(upstreams, upstream)
	}
	return upstreams, nil
}

// GetUpstream returns one upstream of the tenant.
func (s *Store) GetUpstream(ctx context.Context, slug, name string) (config.Upstream, error) {
	var upstream config.Upstream

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		row, err := findUpstream(tx, tenant, name)
		if err != nil {
			return err
		}
		upstream, err = upstreamFromRow(row)
		return err
	})
	return upstream, err
}

// UpdateUpstream replaces the targets of an upstream. The name cannot
// change: an empty input.Name means the same name.
func (s *Store) UpdateUpstream(ctx context.Context, slug, name string, input config.Upstream) (config.Upstream, error) {
	if input.Name == "" {
		input.Name = name
	}
	if input.Name != name {
		return config.Upstream{}, fieldError("name", "name %q differs from %q in the path: a name cannot change, so create a new upstream instead", input.Name, name)
	}
	if err := input.Validate(); err != nil {
		return config.Upstream{}, err
	}
	targets, err := encodeJSON(input.Targets)
	if err != nil {
		return config.Upstream{}, err
	}

	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findUpstream(tx, tenant, name)
		if err != nil {
			return change{}, err
		}
		if err := tx.Model(row).Update("targets", targets).Error; err != nil {
			return change{}, fmt.Errorf("update upstream %q of tenant %q: %w", name, slug, err)
		}
		return change{kind: KindUpdate, resource: "upstream/" + name}, nil
	})
	if err != nil {
		return config.Upstream{}, err
	}
	return input, nil
}

// DeleteUpstream deletes an upstream that no route uses.
func (s *Store) DeleteUpstream(ctx context.Context, slug, name string) error {
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findUpstream(tx, tenant, name)
		if err != nil {
			return change{}, err
		}

		var routes []string
		err = scoped(tx.Model(&routeRow{}), tenant).Where("upstream_id = ?", row.ID).Order("name").Pluck("name", &routes).Error
		if err != nil {
			return change{}, fmt.Errorf("find routes of upstream %q in tenant %q: %w", name, slug, err)
		}
		if len(routes) > 0 {
			return change{}, &ConflictError{
				Message:    fmt.Sprintf("upstream %q is in use: delete these routes or point them at another upstream first", name),
				Dependents: quoteAll("route", routes),
			}
		}

		if err := tx.Delete(row).Error; err != nil {
			return change{}, fmt.Errorf("delete upstream %q of tenant %q: %w", name, slug, err)
		}
		return change{kind: KindDelete, resource: "upstream/" + name}, nil
	})
	return err
}

// quoteAll formats names as `kind "name"` for ConflictError.Dependents.
func quoteAll(kind string, names []string) []string {
	quoted := make([]string, 0, len(names))
	for _, name := range names {
		quoted = append(quoted, fmt.Sprintf("%s %q", kind, name))
	}
	return quoted
}
