package edge

import (
	"strings"
	"sync"

	"portcullis.dev/edge/runtime"
	"portcullis.dev/tenants/bundle"
)

// upstreamOwners maps each tenant to the runtime whose build last synced
// the tenant's upstreams: its connection pools and active health checkers.
// When that runtime leaves the cache, because L1 evicted it or the tenant
// was deleted, releaseUpstreams stops the checkers and closes the pools. A
// runtime built later owns them instead, so a late release of an older
// runtime leaves them running.
type upstreamOwners struct {
	mu     sync.Mutex
	owners map[string]*runtime.Runtime
}

// syncUpstreams applies b's upstreams and records rt as their owner.
func (e *Edge) syncUpstreams(b *bundle.Bundle, rt *runtime.Runtime) {
	o := &e.upstreamOwners
	o.mu.Lock()
	defer o.mu.Unlock()

	e.transport.Sync(b.Tenant, b.Upstreams)
	if o.owners == nil {
		o.owners = map[string]*runtime.Runtime{}
	}
	o.owners[strings.ToLower(b.Tenant)] = rt
}

// releaseUpstreams stops the health checkers and closes the connection
// pools of tenant when rt still owns them. The next request for the tenant
// loads it again, and that build starts them anew.
func (e *Edge) releaseUpstreams(tenant string, rt *runtime.Runtime) {
	o := &e.upstreamOwners
	o.mu.Lock()
	defer o.mu.Unlock()

	key := strings.ToLower(tenant)
	if rt == nil || o.owners[key] != rt {
		return
	}
	delete(o.owners, key)
	e.transport.Sync(rt.Tenant, nil)
	e.log.Info("tenant left the cache; its health checks stopped and its upstream connections closed", "tenant", rt.Tenant)
}
