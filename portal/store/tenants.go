package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/tenants/config"
)

// Tenant is a tenant with its current revision.
type Tenant struct {
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	Revision int64  `json:"revision"`
	// DebugHeaders is config.Tenant.DebugHeaders.
	DebugHeaders bool      `json:"debug_headers"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func tenantFromRow(row *tenantRow) Tenant {
	return Tenant{
		Slug:     row.Slug,
		Name:     row.Name,
		Revision: row.Revision,

		DebugHeaders: row.DebugHeaders,
		CreatedAt:    row.CreatedAt,
		UpdatedAt:    row.UpdatedAt,
	}
}

// findTenant loads the tenant with the slug or returns a NotFoundError.
func findTenant(tx *gorm.DB, slug string) (*tenantRow, error) {
	var row tenantRow
	result := tx.Where("slug = ?", slug).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read tenant %q: %w", slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "tenant", Name: slug}
	}
	return &row, nil
}

// CreateTenant creates a tenant. Its first revision continues after the last
// revision logged for the slug, so a slug that was deleted and created again
// never goes back to an old revision.
func (s *Store) CreateTenant(ctx context.Context, input config.Tenant) (Tenant, error) {
	return s.createTenant(ctx, input, nil)
}

// createTenant creates a tenant and, when afterCreate is not nil, runs it in
// the same transaction after the insert.
func (s *Store) createTenant(ctx context.Context, input config.Tenant, afterCreate func(tx *gorm.DB, tenant *tenantRow) error) (Tenant, error) {
	if err := input.Validate(); err != nil {
		return Tenant{}, err
	}
	row := tenantRow{Slug: input.Slug, Name: strings.TrimSpace(input.Name), DebugHeaders: input.DebugHeaders}

	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := findTenant(tx, row.Slug)
		if err == nil {
			return conflict("tenant %q already exists: choose another slug or update it with PUT", row.Slug)
		}
		if !isNotFound(err) {
			return err
		}

		last, err := lastRevision(tx, row.Slug)
		if err != nil {
			return err
		}
		row.Revision = last + 1

		if err := tx.Create(&row).Error; err != nil {
			// A concurrent create of the slug on PostgreSQL gets here.
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return conflict("tenant %q already exists: choose another slug or update it with PUT", row.Slug)
			}
			return fmt.Errorf("create tenant %q: %w", row.Slug, err)
		}
		if afterCreate != nil {
			if err := afterCreate(tx, &row); err != nil {
				return err
			}
		}
		return appendChangeEvent(tx, row.Slug, row.Revision, change{kind: KindCreate, resource: "tenant/" + row.Slug})
	})
	if err != nil {
		return Tenant{}, err
	}

	s.notify(row.Slug, row.Revision)
	return tenantFromRow(&row), nil
}

// ListTenants returns every tenant ordered by slug.
func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	var rows []tenantRow
	if err := s.reader.WithContext(ctx).Order("slug").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}

	tenants := make([]Tenant, 0, len(rows))
	for i := range rows {
		tenants = append(tenants, tenantFromRow(&rows[i]))
	}
	return tenants, nil
}

// GetTenant returns the tenant with the slug.
func (s *Store) GetTenant(ctx context.Context, slug string) (Tenant, error) {
	row, err := findTenant(s.reader.WithContext(ctx), slug)
	if err != nil {
		return Tenant{}, err
	}
	return tenantFromRow(row), nil
}

// UpdateTenant replaces the tenant's name. The slug cannot change: an empty
// input.Slug means the same slug, and another slug is an invalid field.
func (s *Store) UpdateTenant(ctx context.Context, slug string, input config.Tenant) (Tenant, error) {
	if input.Slug == "" {
		input.Slug = slug
	}
	if input.Slug != slug {
		return Tenant{}, fieldError("slug", "slug %q differs from %q in the path: a slug cannot change, so create a new tenant instead", input.Slug, slug)
	}
	if err := input.Validate(); err != nil {
		return Tenant{}, err
	}

	// updated points at the row that raiseRevision refreshes in place.
	var updated *tenantRow
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		columns := map[string]any{"name": strings.TrimSpace(input.Name), "debug_headers": input.DebugHeaders}
		err := tx.Model(&tenantRow{}).Where("id = ?", tenant.ID).Updates(columns).Error
		if err != nil {
			return change{}, fmt.Errorf("update tenant %q: %w", slug, err)
		}
		tenant.Name = strings.TrimSpace(input.Name)
		tenant.DebugHeaders = input.DebugHeaders
		updated = tenant
		return change{kind: KindUpdate, resource: "tenant/" + slug}, nil
	})
	if err != nil {
		return Tenant{}, err
	}

	return tenantFromRow(updated), nil
}

// DeleteTenant deletes the tenant with all its upstreams, routes and
// bindings. The change log of the slug stays, ending with the delete event.
func (s *Store) DeleteTenant(ctx context.Context, slug string) error {
	var revision int64

	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tenant, err := lockTenant(tx, slug)
		if err != nil {
			return err
		}

		if err := deleteTenantRows(tx, tenant); err != nil {
			return err
		}

		revision = tenant.Revision + 1
		return appendChangeEvent(tx, slug, revision, change{kind: KindDelete, resource: "tenant/" + slug})
	})
	if err != nil {
		return err
	}

	s.forgetBundle(slug)
	s.notify(slug, revision)
	return nil
}

// deleteTenantRows deletes a tenant's rows in dependency order, because
// routes restrict the deletion of their upstream.
func deleteTenantRows(tx *gorm.DB, tenant *tenantRow) error {
	steps := []struct {
		table string
		model any
	}{
		{"consumer credentials", &credentialRow{}},
		{"consumers", &consumerRow{}},
		{"bindings", &bindingRow{}},
		{"routes", &routeRow{}},
		{"upstreams", &upstreamRow{}},
	}
	for _, step := range steps {
		if err := tx.Where("tenant_id = ?", tenant.ID).Delete(step.model).Error; err != nil {
			return fmt.Errorf("delete %s of tenant %q: %w", step.table, tenant.Slug, err)
		}
	}

	if err := tx.Delete(&tenantRow{}, tenant.ID).Error; err != nil {
		return fmt.Errorf("delete tenant %q: %w", tenant.Slug, err)
	}
	return nil
}
