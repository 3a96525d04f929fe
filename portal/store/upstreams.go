package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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

// upstreamRecord is an upstreams row with the columns that migration 00204
// added. upstreamRow, which routes refer to, leaves them out.
type upstreamRecord struct {
	ID       uint `gorm:"primaryKey"`
	TenantID uint
	Name     string
	// Targets is the JSON array of config.Target.
	Targets string
	// Settings is the JSON of upstreamSettings.
	Settings string
	// ClientKeySealed is the sealed TLS client key, "" for none.
	ClientKeySealed string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (upstreamRecord) TableName() string { return "upstreams" }

func (r *upstreamRecord) row() *upstreamRow {
	return &upstreamRow{ID: r.ID, TenantID: r.TenantID, Name: r.Name, Targets: r.Targets, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// upstreamSettings are the fields of config.Upstream besides its name and
// targets, as the settings column stores them. TLS never holds the client
// key here.
type upstreamSettings struct {
	Balance     string              `json:"balance,omitempty"`
	HashOn      string              `json:"hash_on,omitempty"`
	HashKey     string              `json:"hash_key,omitempty"`
	Retries     *int                `json:"retries,omitempty"`
	Protocol    string              `json:"protocol,omitempty"`
	TLS         *config.UpstreamTLS `json:"tls,omitempty"`
	HealthCheck *config.HealthCheck `json:"health_check,omitempty"`
}

func findUpstream(tx *gorm.DB, tenant *tenantRow, name string) (*upstreamRow, error) {
	record, err := findUpstreamRecord(tx, tenant, name)
	if err != nil {
		return nil, err
	}
	return record.row(), nil
}

func findUpstreamRecord(tx *gorm.DB, tenant *tenantRow, name string) (*upstreamRecord, error) {
	var record upstreamRecord
	result := scoped(tx, tenant).Where("name = ?", name).Limit(1).Find(&record)
	if result.Error != nil {
		return nil, fmt.Errorf("read upstream %q of tenant %q: %w", name, tenant.Slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "upstream", Name: name}
	}
	return &record, nil
}

// upstreamFromRecord decodes a row into the view that the API returns: the
// client key is left out, and ClientKeySet reports whether one is stored.
func upstreamFromRecord(record *upstreamRecord) (config.Upstream, error) {
	upstream := config.Upstream{Name: record.Name, Targets: []config.Target{}}
	if err := json.Unmarshal([]byte(record.Targets), &upstream.Targets); err != nil {
		return config.Upstream{}, fmt.Errorf("decode targets of upstream %q: %w", record.Name, err)
	}

	var settings upstreamSettings
	if record.Settings != "" {
		if err := json.Unmarshal([]byte(record.Settings), &settings); err != nil {
			return config.Upstream{}, fmt.Errorf("decode settings of upstream %q: %w", record.Name, err)
		}
	}
	upstream.Balance, upstream.HashOn, upstream.HashKey = settings.Balance, settings.HashOn, settings.HashKey
	upstream.Retries, upstream.Protocol = settings.Retries, settings.Protocol
	upstream.TLS, upstream.HealthCheck = settings.TLS, settings.HealthCheck
	if upstream.TLS != nil {
		upstream.TLS.ClientKeyPEM = ""
		upstream.TLS.ClientKeySet = record.ClientKeySealed != ""
	}
	return upstream, nil
}

func encodeSettings(upstream *config.Upstream) (string, error) {
	settings := upstreamSettings{
		Balance: upstream.Balance, HashOn: upstream.HashOn, HashKey: upstream.HashKey,
		Retries: upstream.Retries, Protocol: upstream.Protocol, HealthCheck: upstream.HealthCheck,
	}
	if upstream.TLS != nil {
		withoutKey := *upstream.TLS
		withoutKey.ClientKeyPEM, withoutKey.ClientKeySet = "", false
		settings.TLS = &withoutKey
	}
	return encodeJSON(settings)
}

func encodeJSON(value any) (string, error) {
	encoded, err := json.Marshal(value)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", value, err)
	}
	return string(encoded), nil
}

// CreateUpstream adds an upstream to the tenant. A TLS client key is sealed
// with the store's secret key and never returned.
func (s *Store) CreateUpstream(ctx context.Context, slug string, input config.Upstream) (config.Upstream, error) {
	if input.TLS != nil && input.TLS.ClientKeySet && input.TLS.ClientKeyPEM == "" {
		return config.Upstream{}, fieldError("tls.client_key_pem", "client_key_set is true but a new upstream has no stored key: send the PEM private key in client_key_pem")
	}
	if err := input.Validate(); err != nil {
		return config.Upstream{}, err
	}
	targets, err := encodeJSON(input.Targets)
	if err != nil {
		return config.Upstream{}, err
	}
	settings, err := encodeSettings(&input)
	if err != nil {
		return config.Upstream{}, err
	}

	var created upstreamRecord
	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		_, err := findUpstream(tx, tenant, input.Name)
		if err == nil {
			return change{}, conflict("upstream %q already exists in tenant %q: choose another name or update it with PUT", input.Name, slug)
		}
		if !isNotFound(err) {
			return change{}, err
		}

		sealed, err := s.sealClientKey(tenant, &input)
		if err != nil {
			return change{}, err
		}
		created = upstreamRecord{TenantID: tenant.ID, Name: input.Name, Targets: targets, Settings: settings, ClientKeySealed: sealed}
		if err := tx.Create(&created).Error; err != nil {
			return change{}, fmt.Errorf("create upstream %q of tenant %q: %w", input.Name, slug, err)
		}
		return change{kind: KindCreate, resource: "upstream/" + input.Name}, nil
	})
	if err != nil {
		return config.Upstream{}, err
	}
	return upstreamFromRecord(&created)
}

// UpstreamFilter selects upstreams of a list. The zero value selects all.
type UpstreamFilter struct {
	// NameContains keeps the upstreams whose name contains it, compared
	// without case.
	NameContains string
}

// ListUpstreams returns the tenant's upstreams ordered by name.
func (s *Store) ListUpstreams(ctx context.Context, slug string) ([]config.Upstream, error) {
	upstreams, _, err := s.ListUpstreamPage(ctx, slug, Page{}, UpstreamFilter{})
	return upstreams, err
}

// ListUpstreamPage returns one page of the tenant's upstreams ordered by
// name, and whether more follow.
func (s *Store) ListUpstreamPage(ctx context.Context, slug string, page Page, filter UpstreamFilter) ([]config.Upstream, bool, error) {
	upstreams := []config.Upstream{}
	more := false

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		upstreams, more, err = listUpstreamPage(tx, tenant, page, filter)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return upstreams, more, nil
}

func listUpstreamRecords(tx *gorm.DB, tenant *tenantRow) ([]upstreamRecord, error) {
	records, _, err := listUpstreamRecordPage(tx, tenant, Page{}, UpstreamFilter{})
	return records, err
}

func listUpstreamRecordPage(tx *gorm.DB, tenant *tenantRow, page Page, filter UpstreamFilter) ([]upstreamRecord, bool, error) {
	query := scoped(tx, tenant)
	if filter.NameContains != "" {
		query = query.Where("LOWER(name) LIKE ? ESCAPE '!'", containsPattern(strings.ToLower(filter.NameContains)))
	}

	var records []upstreamRecord
	if err := page.apply(query, "name").Find(&records).Error; err != nil {
		return nil, false, fmt.Errorf("list upstreams of tenant %q: %w", tenant.Slug, err)
	}
	records, more := trimPage(records, page)
	return records, more, nil
}

// listUpstreams returns the API view of the tenant's upstreams, without
// client keys.
func listUpstreams(tx *gorm.DB, tenant *tenantRow) ([]config.Upstream, error) {
	upstreams, _, err := listUpstreamPage(tx, tenant, Page{}, UpstreamFilter{})
	return upstreams, err
}

// listUpstreamPage returns one page of the API view of the tenant's
// upstreams, without client keys, and whether more follow.
func listUpstreamPage(tx *gorm.DB, tenant *tenantRow, page Page, filter UpstreamFilter) ([]config.Upstream, bool, error) {
	records, more, err := listUpstreamRecordPage(tx, tenant, page, filter)
	if err != nil {
		return nil, false, err
	}

	upstreams := make([]config.Upstream, 0, len(records))
	for i := range records {
		upstream, err := upstreamFromRecord(&records[i])
		if err != nil {
			return nil, false, err
		}
		upstreams = append(upstreams, upstream)
	}
	return upstreams, more, nil
}

// GetUpstream returns one upstream of the tenant.
func (s *Store) GetUpstream(ctx context.Context, slug, name string) (config.Upstream, error) {
	var upstream config.Upstream

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		record, err := findUpstreamRecord(tx, tenant, name)
		if err != nil {
			return err
		}
		upstream, err = upstreamFromRecord(record)
		return err
	})
	return upstream, err
}

// UpdateUpstream replaces an upstream's targets and settings. The name
// cannot change: an empty input.Name means the same name. A TLS block with
// client_key_set true and no client_key_pem keeps the stored client key.
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
	settings, err := encodeSettings(&input)
	if err != nil {
		return config.Upstream{}, err
	}

	var updated *upstreamRecord
	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		record, err := findUpstreamRecord(tx, tenant, name)
		if err != nil {
			return change{}, err
		}
		sealed, err := s.nextClientKey(tenant, record, &input)
		if err != nil {
			return change{}, err
		}

		columns := map[string]any{"targets": targets, "settings": settings, "client_key_sealed": sealed}
		if err := tx.Model(record).Updates(columns).Error; err != nil {
			return change{}, fmt.Errorf("update upstream %q of tenant %q: %w", name, slug, err)
		}
		record.Targets, record.Settings, record.ClientKeySealed = targets, settings, sealed
		updated = record
		return change{kind: KindUpdate, resource: "upstream/" + name}, nil
	})
	if err != nil {
		return config.Upstream{}, err
	}
	return upstreamFromRecord(updated)
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
			return change{}, conflictWith(quoteAll("route", routes), "upstream %q is in use: delete these routes or point them at another upstream first", name)
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
