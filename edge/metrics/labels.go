package metrics

import "sync"

// Label caps. Each metric family with a tenant, route or plugin label gets
// at most this many distinct values of it; later values share an overflow
// label. The caps are shared by all families of one Metrics, so every
// family names the same tenants.
const (
	// MaxTenants is the number of distinct tenant labels, not counting
	// NoTenant and OtherTenant. A tenant keeps its label until its
	// runtime leaves the L1 cache.
	MaxTenants = 100
	// MaxRoutes is the number of distinct (tenant, route) pairs, over all
	// tenants. Routes past it get the label OtherRoute.
	MaxRoutes = 500
	// MaxPlugins is the number of distinct plugin labels.
	MaxPlugins = 100
	// MaxPluginVersions is the number of distinct (plugin, version) pairs
	// in the plugin errors family.
	MaxPluginVersions = 300
)

// Overflow and empty label values. Tenant slugs, route names and plugin
// names start with a letter or digit, so they never clash with these.
const (
	// OtherTenant is the tenant label of tenants past MaxTenants.
	OtherTenant = "_other"
	// NoRoute is the route label of requests that no route matched.
	NoRoute = "_none"
	// OtherRoute is the route label of routes past MaxRoutes.
	OtherRoute = "_other"
	// OtherPlugin is the plugin label of plugins past MaxPlugins, and the
	// version label of versions past MaxPluginVersions.
	OtherPlugin = "_other"
)

// labelLimiter admits tenant, route and plugin names as label values, first
// come first served, up to the caps. It is safe for concurrent use; the
// common case of an admitted name takes a read lock and allocates nothing.
type labelLimiter struct {
	maxTenants, maxRoutes, maxPlugins, maxVersions int

	mu       sync.RWMutex
	tenants  map[string]map[string]struct{}
	routes   int
	plugins  map[string]map[string]struct{}
	versions int
}

func newLabelLimiter(maxTenants, maxRoutes, maxPlugins, maxVersions int) *labelLimiter {
	return &labelLimiter{
		maxTenants:  maxTenants,
		maxRoutes:   maxRoutes,
		maxPlugins:  maxPlugins,
		maxVersions: maxVersions,
		tenants:     map[string]map[string]struct{}{},
		plugins:     map[string]map[string]struct{}{},
	}
}

// tenantRoute returns the labels of a tenant and one of its routes. An
// empty route is NoRoute.
func (l *labelLimiter) tenantRoute(tenant, route string) (string, string) {
	if route == "" {
		route = NoRoute
	}
	if tenant == NoTenant {
		return NoTenant, NoRoute
	}

	l.mu.RLock()
	routes, tenantOK := l.tenants[tenant]
	_, routeOK := routes[route]
	l.mu.RUnlock()
	if routeOK {
		return tenant, route
	}
	if !tenantOK && !l.admitTenant(tenant) {
		return OtherTenant, OtherRoute
	}
	if route == NoRoute || l.admitRoute(tenant, route) {
		return tenant, route
	}
	return tenant, OtherRoute
}

// tenant returns the label of a tenant.
func (l *labelLimiter) tenant(tenant string) string {
	label, _ := l.tenantRoute(tenant, "")
	return label
}

func (l *labelLimiter) admitTenant(tenant string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	if _, ok := l.tenants[tenant]; ok {
		return true
	}
	if len(l.tenants) >= l.maxTenants {
		return false
	}
	l.tenants[tenant] = map[string]struct{}{NoRoute: {}}
	return true
}

func (l *labelLimiter) admitRoute(tenant, route string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	routes, ok := l.tenants[tenant]
	if !ok {
		return false
	}
	if _, ok := routes[route]; ok {
		return true
	}
	if l.routes >= l.maxRoutes {
		return false
	}
	routes[route] = struct{}{}
	l.routes++
	return true
}

// forgetTenant frees the tenant's label and its routes' labels.
func (l *labelLimiter) forgetTenant(tenant string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	routes, ok := l.tenants[tenant]
	if !ok {
		return
	}
	l.routes -= len(routes) - 1
	delete(l.tenants, tenant)
}

// pluginVersion returns the labels of a plugin and one of its versions.
func (l *labelLimiter) pluginVersion(plugin, version string) (string, string) {
	l.mu.RLock()
	versions, pluginOK := l.plugins[plugin]
	_, versionOK := versions[version]
	l.mu.RUnlock()
	if versionOK {
		return plugin, version
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	versions, pluginOK = l.plugins[plugin]
	if !pluginOK {
		if len(l.plugins) >= l.maxPlugins {
			return OtherPlugin, OtherPlugin
		}
		versions = map[string]struct{}{}
		l.plugins[plugin] = versions
	}
	if _, ok := versions[version]; ok {
		return plugin, version
	}
	if l.versions >= l.maxVersions {
		return plugin, OtherPlugin
	}
	versions[version] = struct{}{}
	l.versions++
	return plugin, version
}

// plugin returns the label of a plugin name.
func (l *labelLimiter) plugin(plugin string) string {
	l.mu.RLock()
	_, ok := l.plugins[plugin]
	l.mu.RUnlock()
	if ok {
		return plugin
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.plugins[plugin]; ok {
		return plugin
	}
	if len(l.plugins) >= l.maxPlugins {
		return OtherPlugin
	}
	l.plugins[plugin] = map[string]struct{}{}
	return plugin
}
