package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// BindingPatch lists the binding fields that UpdateBinding changes. A nil
// field stays as it is. Route set to "" applies the binding to every route;
// Consumer set to "" applies it to every consumer.
type BindingPatch struct {
	Version  *string
	Route    *string
	Consumer *string
	// Config replaces the whole config. JSON null means {}.
	Config json.RawMessage
	// Run fields. ClearPriority sets Priority back to the plugin's own.
	Priority      *int
	ClearPriority bool
	TimeoutMS     *int
	OnError       *string
	Enabled       *bool
	AllowHosts    *[]string
	Tier          *string
}

// bindingView is a binding joined with its plugin version and route.
type bindingView struct {
	ID              uint
	PublicID        string
	PluginVersionID uint
	Plugin          string
	Version         string
	Route           *string
	Consumer        *string
	Config          string
	Priority        *int
	TimeoutMS       int
	OnError         string
	Enabled         *bool
	AllowHosts      string
	Tier            string
	// FollowsInstall marks a binding that runs the tenant's installed
	// version of its plugin.
	FollowsInstall bool
}

func (v *bindingView) binding() config.Binding {
	binding := config.Binding{
		ID:      v.PublicID,
		Plugin:  v.Plugin,
		Version: v.Version,
		Config:  json.RawMessage(v.Config),
	}
	if v.Route != nil {
		binding.Route = *v.Route
	}
	if v.Consumer != nil {
		binding.Consumer = *v.Consumer
	}
	binding.Priority = v.Priority
	binding.TimeoutMS = v.TimeoutMS
	binding.OnError = v.OnError
	if v.Enabled != nil && !*v.Enabled {
		binding.Enabled = new(false)
	}
	binding.Tier = v.Tier
	if v.AllowHosts != "" {
		_ = json.Unmarshal([]byte(v.AllowHosts), &binding.AllowHosts)
	}
	return binding
}

// runColumns returns the run-time columns of a binding for a write.
func runColumns(binding *config.Binding) map[string]any {
	hosts := binding.AllowHosts
	if hosts == nil {
		hosts = []string{}
	}
	encoded, _ := json.Marshal(hosts)
	return map[string]any{
		"priority":    binding.Priority,
		"timeout_ms":  binding.TimeoutMS,
		"on_error":    binding.OnError,
		"enabled":     binding.IsEnabled(),
		"allow_hosts": string(encoded),
		"tier":        binding.Tier,
	}
}

// queryBindings selects the tenant's bindings in creation order. The joined
// tables also have a tenant_id column, so the scope names its table here.
func queryBindings(tx *gorm.DB, tenant *tenantRow) *gorm.DB {
	return tx.Table("bindings").
		Select("bindings.id, bindings.public_id, bindings.plugin_version_id, plugin_versions.name AS plugin, plugin_versions.version AS version, routes.name AS route, consumers.name AS consumer, bindings.config, bindings.priority, bindings.timeout_ms, bindings.on_error, bindings.enabled, bindings.allow_hosts, bindings.follows_install, bindings.tier").
		Joins("JOIN plugin_versions ON plugin_versions.id = bindings.plugin_version_id").
		Joins("LEFT JOIN routes ON routes.id = bindings.route_id").
		Joins("LEFT JOIN consumers ON consumers.id = bindings.consumer_id").
		Where("bindings.tenant_id = ?", tenant.ID).
		Order("bindings.id")
}

func listBindingViews(tx *gorm.DB, tenant *tenantRow) ([]bindingView, error) {
	var views []bindingView
	if err := queryBindings(tx, tenant).Scan(&views).Error; err != nil {
		return nil, fmt.Errorf("list bindings of tenant %q: %w", tenant.Slug, err)
	}
	return views, nil
}

func findBindingView(tx *gorm.DB, tenant *tenantRow, id string) (*bindingView, error) {
	var views []bindingView
	err := queryBindings(tx, tenant).Where("bindings.public_id = ?", id).Limit(1).Scan(&views).Error
	if err != nil {
		return nil, fmt.Errorf("read binding %q of tenant %q: %w", id, tenant.Slug, err)
	}
	if len(views) == 0 {
		return nil, &NotFoundError{Resource: "binding", Name: id}
	}
	return &views[0], nil
}

// normalizeConfig returns the compact form of a binding config, with an
// empty or null config as {}.
func normalizeConfig(raw json.RawMessage) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return json.RawMessage(`{}`), nil
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, trimmed); err != nil {
		return nil, InvalidJSON("config", trimmed, err)
	}
	return compact.Bytes(), nil
}

func newBindingID() string {
	var random [8]byte
	if _, err := rand.Read(random[:]); err != nil {
		panic(fmt.Sprintf("read random binding id: %v", err))
	}
	return "bnd_" + hex.EncodeToString(random[:])
}

// bindingRefs are the rows that a binding refers to. RouteID and ConsumerID
// are nil for a binding without that scope.
type bindingRefs struct {
	Version    *pluginVersionRow
	RouteID    *uint
	ConsumerID *uint
}

// resolveBinding checks a binding's references inside the tenant: the plugin
// version must be published, the route and the consumer must exist unless
// they are empty, and the config must match the version's schema. Failures
// are field errors.
func resolveBinding(tx *gorm.DB, tenant *tenantRow, binding *config.Binding) (bindingRefs, error) {
	var refs bindingRefs
	version, err := resolveBindingVersion(tx, tenant, binding)
	if err != nil {
		return refs, err
	}
	refs.Version = version

	if binding.Route != "" {
		route, err := findRoute(tx, tenant, binding.Route)
		if isNotFound(err) {
			return refs, fieldError("route", "route %q not found in tenant %q: name an existing route, or leave route empty to bind every route", binding.Route, tenant.Slug)
		}
		if err != nil {
			return refs, err
		}
		refs.RouteID = &route.ID
	}
	if binding.Consumer != "" {
		consumer, err := findConsumer(tx, tenant, binding.Consumer)
		if isNotFound(err) {
			return refs, fieldError("consumer", "consumer %q not found in tenant %q: name an existing consumer, or leave consumer empty", binding.Consumer, tenant.Slug)
		}
		if err != nil {
			return refs, err
		}
		refs.ConsumerID = &consumer.ID
	}

	schema, err := compileSchema(version.ConfigSchema)
	if err != nil {
		return refs, fmt.Errorf("compile stored config schema of %q: %w", bundle.Key(version.Name, version.Version), err)
	}
	return refs, validateConfig(schema, binding.Config)
}

// resolvePluginVersion finds a published version, or returns a field error
// that lists the versions the plugin has.
func resolvePluginVersion(tx *gorm.DB, name, version string) (*pluginVersionRow, error) {
	row, err := findPluginVersion(tx, name, version)
	if !isNotFound(err) {
		return row, err
	}

	var versions []string
	if err := tx.Model(&pluginVersionRow{}).Where("name = ?", name).Order("id").Pluck("version", &versions).Error; err != nil {
		return nil, fmt.Errorf("list versions of plugin %q: %w", name, err)
	}
	if len(versions) == 0 {
		return nil, fieldError("plugin", "plugin %q is not published: publish it first or name a published plugin", name)
	}
	return nil, fieldError("version", "version %q of plugin %q is not published: use one of %s", version, name, strings.Join(versions, ", "))
}

// CreateBinding binds a published plugin version to one route of the
// tenant, or to all its routes when input.Route is empty. It generates the
// binding's id and ignores input.ID.
func (s *Store) CreateBinding(ctx context.Context, slug string, input config.Binding) (config.Binding, error) {
	normalized, err := normalizeConfig(input.Config)
	if err != nil {
		return config.Binding{}, err
	}
	input.Config = normalized
	input.ID = newBindingID()
	if err := validateBinding(&input); err != nil {
		return config.Binding{}, err
	}

	follows := input.Version == ""
	ctx = withBindingChecks(ctx)
	err = s.writeBinding(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		refs, err := resolveBinding(tx, tenant, &input)
		if err != nil {
			return change{}, err
		}
		if err := checkInstallable(tx, refs.Version, "version"); err != nil {
			return change{}, err
		}
		if err := s.checkBindingVectors(ctx, refs.Version, input.Config); err != nil {
			return change{}, err
		}

		row := bindingRow{
			PublicID:        input.ID,
			TenantID:        tenant.ID,
			PluginVersionID: refs.Version.ID,
			RouteID:         refs.RouteID,
			ConsumerID:      refs.ConsumerID,
			Config:          string(input.Config),
		}
		if err := tx.Create(&row).Error; err != nil {
			return change{}, fmt.Errorf("create binding of plugin %q in tenant %q: %w", input.Plugin, slug, err)
		}
		columns := runColumns(&input)
		columns["follows_install"] = follows
		if err := tx.Model(&bindingRow{ID: row.ID}).Updates(columns).Error; err != nil {
			return change{}, fmt.Errorf("create binding of plugin %q in tenant %q: %w", input.Plugin, slug, err)
		}
		return change{kind: KindCreate, resource: "binding/" + input.ID}, nil
	})
	if err != nil {
		return config.Binding{}, err
	}
	return input, nil
}

// ListBindings returns the tenant's bindings in creation order.
func (s *Store) ListBindings(ctx context.Context, slug string) ([]config.Binding, error) {
	return s.listBindings(ctx, slug, false)
}

// BindingFilter selects bindings of a list. Each field left empty selects
// all, so the zero value selects every binding.
type BindingFilter struct {
	// Plugin keeps the bindings of the plugin with this name. A name in
	// the operator's namespace matches with or without the namespace, as
	// everywhere else.
	Plugin string
	// Route keeps the bindings of the route with this exact name.
	Route string
	// Consumer keeps the bindings of the consumer with this exact name.
	Consumer string
}

// apply adds the filter's conditions to a query from queryBindings.
func (f BindingFilter) apply(query *gorm.DB) *gorm.DB {
	if f.Plugin != "" {
		query = query.Where("plugin_versions.name = ?", canonicalPluginName(f.Plugin))
	}
	if f.Route != "" {
		query = query.Where("routes.name = ?", f.Route)
	}
	if f.Consumer != "" {
		query = query.Where("consumers.name = ?", f.Consumer)
	}
	return query
}

// ListBindingPage returns one page of the tenant's bindings that filter
// selects, in creation order, and whether more follow. page.After is the id
// of the previous page's last binding. An id that names no binding of the
// tenant, such as one deleted since the previous page, is a field error on
// "after".
func (s *Store) ListBindingPage(ctx context.Context, slug string, page Page, filter BindingFilter) ([]config.Binding, bool, error) {
	bindings := []config.Binding{}
	more := false

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}

		query := filter.apply(queryBindings(tx, tenant))
		if page.After != "" {
			after, err := findBindingView(tx, tenant, page.After)
			if isNotFound(err) {
				return fieldError("after", "binding %q not found in tenant %q: list from the start without after", page.After, slug)
			}
			if err != nil {
				return err
			}
			query = query.Where("bindings.id > ?", after.ID)
		}
		if page.Limit > 0 {
			query = query.Limit(page.Limit + 1)
		}

		var views []bindingView
		if err := query.Scan(&views).Error; err != nil {
			return fmt.Errorf("list bindings of tenant %q: %w", slug, err)
		}
		views, more = trimPage(views, page)
		for i := range views {
			bindings = append(bindings, views[i].binding())
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return bindings, more, nil
}

// ValidateBinding checks a binding's fields as CreateBinding does before
// it looks anything up: the plugin may carry a namespace and the version
// may be empty.
func ValidateBinding(binding config.Binding) error {
	return validateBinding(&binding)
}

// ListDeclaredBindings returns the tenant's bindings as a declarative
// document states them: like ListBindings, except that a binding that
// follows the tenant's install of its plugin has an empty Version.
func (s *Store) ListDeclaredBindings(ctx context.Context, slug string) ([]config.Binding, error) {
	return s.listBindings(ctx, slug, true)
}

// listBindings returns the tenant's bindings in creation order. With
// declared set, a binding that follows the tenant's install of its plugin
// has an empty Version.
func (s *Store) listBindings(ctx context.Context, slug string, declared bool) ([]config.Binding, error) {
	bindings := []config.Binding{}

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		views, err := listBindingViews(tx, tenant)
		if err != nil {
			return err
		}
		for i := range views {
			binding := views[i].binding()
			if declared && views[i].FollowsInstall {
				binding.Version = ""
			}
			bindings = append(bindings, binding)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return bindings, nil
}

// GetBinding returns one binding of the tenant. An id of another tenant's
// binding is not found.
func (s *Store) GetBinding(ctx context.Context, slug, id string) (config.Binding, error) {
	var binding config.Binding

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		view, err := findBindingView(tx, tenant, id)
		if err != nil {
			return err
		}
		binding = view.binding()
		return nil
	})
	return binding, err
}

// UpdateBinding changes a binding's version, route or config with the same
// checks as CreateBinding. The config is checked against the schema of the
// resulting version even when only the version changes.
func (s *Store) UpdateBinding(ctx context.Context, slug, id string, patch BindingPatch) (config.Binding, error) {
	if patch.isEmpty() {
		return config.Binding{}, fieldError("body", "the patch changes nothing: send at least one of version, route, consumer, config, priority, timeout_ms, on_error, enabled, allow_hosts and tier")
	}
	if patch.Config != nil {
		normalized, err := normalizeConfig(patch.Config)
		if err != nil {
			return config.Binding{}, err
		}
		patch.Config = normalized
	}

	var updated config.Binding
	ctx = withBindingChecks(ctx)
	err := s.writeBinding(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		view, err := findBindingView(tx, tenant, id)
		if err != nil {
			return change{}, err
		}

		updated = applyPatch(view.binding(), patch)
		follows := followsAfterPatch(view, patch)
		if follows {
			updated.Version = ""
		}
		if err := validateBinding(&updated); err != nil {
			return change{}, err
		}
		refs, err := resolveBinding(tx, tenant, &updated)
		if err != nil {
			return change{}, err
		}
		if refs.Version.ID != view.PluginVersionID {
			if err := checkInstallable(tx, refs.Version, "version"); err != nil {
				return change{}, err
			}
		}
		configChanged := string(updated.Config) != string(view.binding().Config)
		if refs.Version.ID != view.PluginVersionID || configChanged {
			if err := s.checkBindingVectors(ctx, refs.Version, updated.Config); err != nil {
				return change{}, err
			}
		}

		columns := runColumns(&updated)
		columns["plugin_version_id"] = refs.Version.ID
		columns["follows_install"] = follows
		columns["route_id"] = refs.RouteID
		columns["consumer_id"] = refs.ConsumerID
		columns["config"] = string(updated.Config)
		if err := tx.Model(&bindingRow{ID: view.ID}).Updates(columns).Error; err != nil {
			return change{}, fmt.Errorf("update binding %q of tenant %q: %w", id, slug, err)
		}
		return change{kind: KindUpdate, resource: "binding/" + id}, nil
	})
	if err != nil {
		return config.Binding{}, err
	}
	return updated, nil
}

func applyPatch(binding config.Binding, patch BindingPatch) config.Binding {
	if patch.Version != nil {
		binding.Version = *patch.Version
	}
	if patch.Route != nil {
		binding.Route = *patch.Route
	}
	if patch.Consumer != nil {
		binding.Consumer = *patch.Consumer
	}
	if patch.Config != nil {
		binding.Config = patch.Config
	}
	if patch.Priority != nil || patch.ClearPriority {
		binding.Priority = patch.Priority
	}
	if patch.TimeoutMS != nil {
		binding.TimeoutMS = *patch.TimeoutMS
	}
	if patch.OnError != nil {
		binding.OnError = *patch.OnError
	}
	if patch.Enabled != nil {
		binding.Enabled = patch.Enabled
	}
	if patch.Tier != nil {
		binding.Tier = *patch.Tier
	}
	if patch.AllowHosts != nil {
		binding.AllowHosts = *patch.AllowHosts
	}
	return binding
}

func (p *BindingPatch) isEmpty() bool {
	return p.Version == nil && p.Route == nil && p.Consumer == nil && p.Config == nil && p.Priority == nil && !p.ClearPriority &&
		p.TimeoutMS == nil && p.OnError == nil && p.Enabled == nil && p.AllowHosts == nil && p.Tier == nil
}

// DeleteBinding deletes one binding of the tenant.
func (s *Store) DeleteBinding(ctx context.Context, slug, id string) error {
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		result := scoped(tx, tenant).Where("public_id = ?", id).Delete(&bindingRow{})
		if result.Error != nil {
			return change{}, fmt.Errorf("delete binding %q of tenant %q: %w", id, slug, result.Error)
		}
		if result.RowsAffected == 0 {
			return change{}, &NotFoundError{Resource: "binding", Name: id}
		}
		return change{kind: KindDelete, resource: "binding/" + id}, nil
	})
	return err
}
