package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// Bundle returns the tenant's current config as a sealed bundle, read in one
// transaction at the tenant's current revision. Bindings keep their creation
// order, and Plugins holds the source of every plugin version that a binding
// uses. An unknown slug returns an error that wraps bundle.ErrTenantNotFound.
//
// Bundles are cached per tenant and revision, so repeated calls at one
// revision cost one indexed query. The returned bundle is shared between
// callers and must not be modified.
func (s *Store) Bundle(ctx context.Context, slug string) (*bundle.Bundle, error) {
	var current *bundle.Bundle

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}

		if cached := s.cachedBundle(slug, tenant.Revision); cached != nil {
			current = cached
			return nil
		}

		current, err = s.buildBundle(tx, tenant)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("build bundle of tenant %q: %w", slug, err)
	}

	s.rememberBundle(current)
	return current, nil
}

func (s *Store) buildBundle(tx *gorm.DB, tenant *tenantRow) (*bundle.Bundle, error) {
	upstreams, err := s.listBundleUpstreams(tx, tenant)
	if err != nil {
		return nil, err
	}
	routes, err := listRoutes(tx, tenant)
	if err != nil {
		return nil, err
	}
	views, err := listBindingViews(tx, tenant)
	if err != nil {
		return nil, err
	}

	bindings := make([]config.Binding, 0, len(views))
	versionIDs := make([]uint, 0, len(views))
	for i := range views {
		bindings = append(bindings, views[i].binding())
		versionIDs = append(versionIDs, views[i].PluginVersionID)
	}

	plugins, err := pluginCode(tx, versionIDs)
	if err != nil {
		return nil, err
	}
	consumers, err := listBundleConsumers(tx, tenant)
	if err != nil {
		return nil, err
	}
	domains, err := s.listBundleDomains(tx, tenant)
	if err != nil {
		return nil, err
	}

	built := &bundle.Bundle{
		Tenant:    tenant.Slug,
		Revision:  tenant.Revision,
		Upstreams: upstreams,
		Routes:    routes,
		Bindings:  bindings,
		Plugins:   plugins,
		Consumers: consumers,

		DebugHeaders: tenant.DebugHeaders,
		Domains:      domains,
	}
	if err := built.Seal(); err != nil {
		return nil, err
	}
	return built, nil
}

// pluginCode loads the source of the plugin versions with the ids, keyed by
// bundle.Key.
func pluginCode(tx *gorm.DB, versionIDs []uint) (map[string]bundle.PluginCode, error) {
	plugins := make(map[string]bundle.PluginCode, len(versionIDs))
	if len(versionIDs) == 0 {
		return plugins, nil
	}

	var rows []pluginVersionRow
	if err := tx.Select("id", "name", "version", "source", "priority", "test_vectors").Where("id IN ?", versionIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read plugin sources: %w", err)
	}
	signatures, err := pluginSignatures(tx, versionIDs)
	if err != nil {
		return nil, err
	}
	reviews, err := pluginReviews(tx, versionIDs)
	if err != nil {
		return nil, err
	}

	for _, row := range rows {
		plugins[bundle.Key(row.Name, row.Version)] = bundle.PluginCode{
			Name:     row.Name,
			Version:  row.Version,
			Source:   row.Source,
			SHA256:   bundle.SourceHash(row.Source),
			Priority: row.Priority,

			TestVectors: testVectorsOf(&row),
			Signature:   signatures[row.ID],
			Reviewed:    reviews[row.ID],
		}
	}
	return plugins, nil
}

func (s *Store) cachedBundle(slug string, revision int64) *bundle.Bundle {
	s.bundlesMu.RLock()
	defer s.bundlesMu.RUnlock()

	cached := s.bundles[slug]
	if cached == nil || cached.Revision != revision {
		return nil
	}
	return cached
}

// rememberBundle caches a bundle unless the cache holds a newer revision,
// which a concurrent caller may have stored first.
func (s *Store) rememberBundle(built *bundle.Bundle) {
	s.bundlesMu.Lock()
	defer s.bundlesMu.Unlock()

	cached := s.bundles[built.Tenant]
	if cached == nil || cached.Revision < built.Revision {
		s.bundles[built.Tenant] = built
	}
}

func (s *Store) forgetBundle(slug string) {
	s.bundlesMu.Lock()
	defer s.bundlesMu.Unlock()

	delete(s.bundles, slug)
}
