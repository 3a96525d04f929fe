package edge

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/metrics"
	"portcullis.dev/edge/proxy"
	"portcullis.dev/edge/runtime"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/tenants/bundle"
)

// requestState is the edge's state for one request, for logs and metrics.
type requestState struct {
	id      string
	start   time.Time
	slug    string
	runtime *runtime.Runtime
	route   string
	call    *proxy.Call
	// routeRuntime and exchange are kept for the log phase.
	routeRuntime *runtime.Route
	exchange     *pluginhost.Exchange
	// status is the status written, or 499 for a client that went away.
	status int
}

// serveHTTP is the one handler of all listeners. It sets the request id and
// Alt-Svc before anything is written, so every response carries them.
func (e *Edge) serveHTTP(w http.ResponseWriter, r *http.Request) {
	state := &requestState{id: rand.Text(), start: time.Now()}
	w.Header().Set("X-Request-Id", state.id)
	if altSvc := e.altSvc.Load(); altSvc != nil && r.ProtoMajor < 3 {
		w.Header().Set("Alt-Svc", *altSvc)
	}

	// finish runs even when the proxy aborts the handler with
	// http.ErrAbortHandler after a failed body copy.
	defer e.finish(r, state)

	if err := e.handle(w, r, state); err != nil {
		e.fail(w, r, state, err)
	}
}

// handle runs the request flow: tenant, runtime, route, request plugins and
// the proxy. It returns the error that ended the flow before the proxy ran.
func (e *Edge) handle(w http.ResponseWriter, r *http.Request, state *requestState) error {
	slug, ok := tenantFromHost(r.Host, e.baseDomain)
	if !ok {
		return fmt.Errorf("host %q: %w", r.Host, errUnknownHost)
	}
	state.slug = slug

	rt, err := e.store.Runtime(r.Context(), slug)
	if err != nil {
		if errors.Is(err, bundle.ErrTenantNotFound) || r.Context().Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %w", errTenantUnavailable, err)
	}
	state.runtime = rt

	requestPath := cleanPath(r.URL.Path)
	route, ok := rt.Match(r.Method, requestPath)
	if !ok {
		return fmt.Errorf("%s %q: %w", r.Method, requestPath, errNoRoute)
	}
	state.route = route.Name
	if requestPath != r.URL.Path {
		r = withPath(r, requestPath)
	}

	if rt.DebugHeaders && route.Chain.Names() != "" {
		w.Header().Set(pluginsHeader, route.Chain.Names())
	}

	plugins := e.newExchange(r, state, route)
	state.routeRuntime, state.exchange = route, plugins
	if err := route.Chain.RunRequest(r.Context(), plugins); err != nil {
		return err
	}
	if plugins.Exit != nil {
		if err := route.Chain.RunExitResponse(r.Context(), plugins); err != nil {
			return err
		}
		state.status = plugins.Exit.Status
		writeExit(w, plugins)
		return nil
	}

	state.call = &proxy.Call{
		Balancer:  route.Balancer,
		RequestID: state.id,
		OnResponse: func(resp *http.Response) error {
			return route.Chain.RunResponse(r, plugins, resp)
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			e.fail(w, r, state, err)
		},
	}
	out := chain.ApplyRequest(r, plugins)
	e.proxy.ServeHTTP(w, out.WithContext(abortOnCopyError(proxy.WithCall(out.Context(), state.call), r)))
	return nil
}

// h3Server is the http.ServerContextKey value of HTTP/3 requests.
var h3Server = &http.Server{}

// abortOnCopyError makes the reverse proxy abort an HTTP/3 response whose
// body copy failed, as it does on HTTP/1.1 and HTTP/2. httputil.ReverseProxy
// panics with http.ErrAbortHandler only when the context carries
// http.ServerContextKey, which the HTTP/3 server (quic-go) does not set, and
// otherwise ends the body as if it were complete. quic-go resets the stream
// on that panic.
func abortOnCopyError(ctx context.Context, r *http.Request) context.Context {
	if r.ProtoMajor != 3 || ctx.Value(http.ServerContextKey) != nil {
		return ctx
	}
	return context.WithValue(ctx, http.ServerContextKey, h3Server)
}

// withPath returns a shallow copy of r with a cleaned path.
func withPath(r *http.Request, cleaned string) *http.Request {
	out := new(http.Request)
	*out = *r
	target := *r.URL
	target.Path = cleaned
	target.RawPath = ""
	out.URL = &target
	return out
}

// writeExit writes the status and body that a request plugin exited with,
// and the response headers it set, except the edge's own.
func writeExit(w http.ResponseWriter, plugins *pluginhost.Exchange) {
	header := w.Header()
	for name, values := range plugins.Response.Header {
		if !isOwned(name) {
			header[http.CanonicalHeaderKey(name)] = values
		}
	}

	body := plugins.Exit.Body
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	header.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(plugins.Exit.Status)
	_, _ = w.Write([]byte(body))
}

func isOwned(name string) bool {
	for _, owned := range ownedHeaders {
		if http.CanonicalHeaderKey(name) == owned {
			return true
		}
	}
	return false
}

// finish records the request's metrics and debug log line.
func (e *Edge) finish(r *http.Request, state *requestState) {
	status := state.status
	if status == 0 && state.call != nil {
		status = state.call.Status
	}
	if status == 0 {
		// Only an aborted handler leaves no status.
		status = http.StatusOK
	}

	tenant := metrics.NoTenant
	if state.runtime != nil {
		tenant = state.runtime.Tenant
	}
	elapsed := time.Since(state.start)
	e.metrics.ObserveRequest(tenant, r, status, elapsed)
	e.runLogPhase(state.routeRuntime, state.exchange, status)
	e.log.Debug("request served", "request_id", state.id, "tenant", state.slug, "route", state.route, "revision", revision(state.runtime),
		"method", r.Method, "status", status, "protocol", metrics.Protocol(r), "duration", elapsed)
}

func revision(rt *runtime.Runtime) int64 {
	if rt == nil {
		return 0
	}
	return rt.Revision
}
