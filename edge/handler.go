package edge

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/metrics"
	"portcullis.dev/edge/observe"
	"portcullis.dev/edge/problem"
	"portcullis.dev/edge/proxy"
	"portcullis.dev/edge/router"
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
	// routeRuntime and exchange are kept for the log phase, which runs the
	// chain that the request phases ended with.
	routeRuntime *runtime.Route
	exchange     *pluginhost.Exchange
	chain        *chain.Chain
	// status is the status written, or 499 for a client that went away.
	status int
	// completed is set when the handler returned without a panic.
	completed bool
	// span and upstreamSpan are the request's trace spans, nil while
	// tracing is off. bodyIn and bodyOut count body bytes, nil while the
	// access log is off.
	span, upstreamSpan trace.Span
	bodyIn             *observe.CountingBody
	bodyOut            *observe.CountingWriter
}

// serveHTTP is the one handler of all listeners. It sets the request id and
// Alt-Svc before anything is written, so every response carries them.
func (e *Edge) serveHTTP(w http.ResponseWriter, r *http.Request) {
	state := &requestState{id: rand.Text(), start: time.Now()}
	w.Header().Set("X-Request-Id", state.id)
	if altSvc := e.altSvc.Load(); altSvc != nil && r.ProtoMajor < 3 {
		w.Header().Set("Alt-Svc", *altSvc)
	}

	w, r = e.observer.begin(w, r, state)
	// finish runs even when the proxy aborts the handler with
	// http.ErrAbortHandler after a failed body copy.
	defer e.finish(r, state)

	if err := e.handle(w, r, state); err != nil {
		e.failRequest(w, r, state, err)
	}
	state.completed = true
}

// handle runs the request flow: tenant, runtime, route, request plugins and
// the proxy. It returns the error that ended the flow before the proxy ran.
func (e *Edge) handle(w http.ResponseWriter, r *http.Request, state *requestState) error {
	// A WebSocket over HTTP/2 or HTTP/3 continues as the HTTP/1.1
	// handshake that routes, plugins and the upstream expect.
	if proxy.IsWebSocketConnect(r) {
		var err error
		if w, r, err = proxy.AcceptWebSocketConnect(w, r); err != nil {
			return err
		}
	}
	// An HTTP/1.1 tunnel leaves net/http's tracking, so the edge tracks
	// it for the drain.
	w = e.servers.tunnels.track(w, r)

	slug, ok := e.tenantForHost(r.Context(), r.Host)
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

	requestPath, err := router.CleanPath(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	route, params, ok := rt.MatchRequest(r, requestPath.Decoded)
	if !ok {
		return fmt.Errorf("%s %q: %w", r.Method, requestPath.Decoded, errNoRoute)
	}
	state.route = route.Name
	if e.applyRoutePolicy(w, r, rt, route.Name) {
		state.status = http.StatusPermanentRedirect
		return nil
	}
	if requestPath.Decoded != r.URL.Path || requestPath.Escaped != r.URL.EscapedPath() {
		r = withPath(r, requestPath)
	}
	if err := limitBody(w, r, route.MaxBodyBytes); err != nil {
		return err
	}

	if rt.DebugHeaders && route.Chain.Names() != "" {
		w.Header().Set(pluginsHeader, route.Chain.Names())
	}

	plugins := e.newExchange(r, state, route)
	plugins.Request.Params = params
	state.routeRuntime, state.exchange = route, plugins
	// The hooks of every phase until the response body is copied follow
	// the request's cancellation through one watch. The log phase runs
	// later, under a context of its own.
	hookCtx, stopWatch := route.Chain.WatchRequest(r.Context())
	defer stopWatch()
	active, err := route.RunRequest(hookCtx, plugins)
	state.chain = active
	if rt.DebugHeaders && active != route.Chain {
		w.Header().Set(pluginsHeader, active.Names())
	}
	if err != nil {
		return err
	}
	if plugins.Exit != nil {
		if err := active.RunExitResponse(hookCtx, plugins); err != nil {
			return err
		}
		state.status = plugins.Exit.Status
		writeExit(w, plugins)
		return nil
	}

	state.call = &proxy.Call{
		Balancer:  route.Balancer,
		RequestID: state.id,
		OnSend:    e.observer.upstreamHook(state),

		WebSocketIdleTimeout: e.cfg.WebSocketIdleTimeout,
		OnResponse: func(resp *http.Response) error {
			return active.RunResponse(hookCtx, plugins, resp)
		},
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			e.failRequest(w, r, state, err)
		},
	}
	out, cancel := withGRPCDeadline(chain.ApplyRequest(r, plugins))
	defer cancel()
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
func withPath(r *http.Request, cleaned router.Path) *http.Request {
	out := new(http.Request)
	*out = *r
	target := *r.URL
	target.Path = cleaned.Decoded
	target.RawPath = cleaned.Escaped
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

// finish records the request's metrics, spans, access log line and debug
// log line.
func (e *Edge) finish(r *http.Request, state *requestState) {
	status := state.status
	if status == 0 && state.call != nil {
		status = state.call.Status
	}
	if status == 0 {
		// Only an aborted handler leaves no status.
		status = http.StatusOK
	}
	if !state.completed && r.Context().Err() != nil {
		// The response body copy failed because the client went away.
		status = problem.StatusClientClosedRequest
	}

	tenant := metrics.NoTenant
	if state.runtime != nil {
		tenant = state.runtime.Tenant
	}
	elapsed := time.Since(state.start)
	e.metrics.ObserveRequest(tenant, state.route, r, status, elapsed)
	e.observer.end(r, state, tenant, status, elapsed)
	e.runLogPhase(state.chain, state.exchange, status)
	e.log.Debug("request served", "request_id", state.id, "tenant", state.slug, "route", state.route, "revision", revision(state.runtime),
		"method", r.Method, "status", status, "protocol", metrics.Protocol(r), "duration", elapsed)
}

func revision(rt *runtime.Runtime) int64 {
	if rt == nil {
		return 0
	}
	return rt.Revision
}
