package edge

import (
	"context"
	"net"
	"net/http"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/runtime"
	"portcullis.dev/plugins-marketplace/pluginhost"
)

// pluginsHeader names the plugin versions that handled a response, sent
// when the tenant turned debug headers on.
const pluginsHeader = "X-Portcullis-Plugins"

// Log-phase limits. A request whose log phase finds no free slot skips it,
// so a slow log hook never queues without bound.
const (
	// maxLogHooks bounds the log-phase runs in flight on the edge.
	maxLogHooks = 256
	// maxLogHooksPerTenant bounds one tenant's log-phase runs in flight,
	// so a tenant whose log hooks are slow leaves at least 192 slots to
	// the others. With more tenants, each starts runs only below an equal
	// share of maxLogHooks, which keeps a share free (logSlots.fairShare).
	maxLogHooksPerTenant = 64
	// logSkipInterval is the minimum gap between two warnings of skipped
	// log phases of one tenant. The skips in between are counted and
	// reported in the next warning.
	logSkipInterval = time.Second
)

// logPhaseTimeout bounds one request's whole log phase.
const logPhaseTimeout = time.Second

// newExchange returns the exchange that a request's plugins share, with the
// request view and the tenant's host services.
func (e *Edge) newExchange(r *http.Request, state *requestState, route *runtime.Route) *pluginhost.Exchange {
	ex := chain.NewExchange(r)
	ex.RequestID = state.id
	ex.Request.Tenant = state.runtime.Tenant
	ex.Request.Route = route.Name
	ex.Request.Scheme = "http"
	if r.TLS != nil {
		ex.Request.Scheme = "https"
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ex.Request.ClientAddr = host
	}

	body := &bodyBuffer{r: r}
	body.read = body.readBody
	ex.Host = state.runtime.WithConsumers(e.services.Tenant(state.runtime.Tenant).Request(body.read))
	return ex
}

// bodyBuffer reads the request body once for ctx.req.body and puts what it
// read back in front of the rest, so the upstream still gets all of it.
type bodyBuffer struct {
	r    *http.Request
	read func(limit int) ([]byte, error)
	data []byte
	done bool
}

func (b *bodyBuffer) readBody(limit int) ([]byte, error) {
	if !b.done {
		b.done = true
		if b.r.Body == nil || b.r.Body == http.NoBody {
			return nil, nil
		}
		data, _, err := pluginhost.ReadLimited(b.r.Body, pluginhost.MaxRequestBody)
		if err != nil {
			return nil, err
		}
		b.data = data
		b.r.Body = &prefixedBody{prefix: data, rest: b.r.Body}
	}
	return b.data[:min(limit, len(b.data))], nil
}

// prefixedBody is a request body whose first bytes were read already.
type prefixedBody struct {
	prefix []byte
	rest   interface {
		Read([]byte) (int, error)
		Close() error
	}
}

func (p *prefixedBody) Read(buf []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(buf, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.rest.Read(buf)
}

func (p *prefixedBody) Close() error {
	return p.rest.Close()
}

// runLogPhase runs the log hooks after the response went out, in their own
// goroutine, when the edge and the request's tenant have a free slot. The
// exchange is no longer used by the request then.
func (e *Edge) runLogPhase(plugins *chain.Chain, ex *pluginhost.Exchange, status int) {
	if plugins == nil || ex == nil || !plugins.Has(pluginhost.PhaseLog) {
		return
	}
	tenant := ex.Request.Tenant
	if !e.logHooks.acquire(tenant, ex.RequestID) {
		return
	}

	ex.Exit = nil
	if ex.Response.Status == 0 {
		ex.Response.Status = status
	}
	go func() {
		defer e.logHooks.release(tenant)
		ctx, cancel := context.WithTimeout(context.Background(), logPhaseTimeout)
		defer cancel()
		_ = plugins.Run(ctx, pluginhost.PhaseLog, ex)
	}()
}
