package edge

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/problem"
	"portcullis.dev/edge/proxy"
	"portcullis.dev/edge/router"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/netguard"
)

// Errors that end a request before the proxy runs.
var (
	errUnknownHost       = errors.New("host does not name a tenant")
	errNoRoute           = errors.New("no route matches")
	errTenantUnavailable = errors.New("tenant config is unavailable")
)

// classify maps every request failure to the status sent and the detail of
// its problem document. The detail never includes upstream addresses or
// plugin error text, which the log carries instead.
func classify(ctx context.Context, err error) (int, string) {
	var pluginErr *chain.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return problem.StatusClientClosedRequest, "The client closed the request before the response."
	case errors.Is(err, router.ErrInvalidPath):
		return http.StatusBadRequest, "The request path contains an encoded slash or backslash, a backslash or a control character."
	case isBodyTooLarge(err):
		return http.StatusRequestEntityTooLarge, "The request body is larger than the route's limit."
	case errors.As(err, &pluginErr):
		return http.StatusInternalServerError, "Plugin " + pluginErr.Step.Plugin + " version " + pluginErr.Step.Version + " failed, so the request was stopped."
	case errors.Is(err, errUnknownHost):
		return http.StatusNotFound, "No tenant is served at this host."
	case errors.Is(err, bundle.ErrTenantNotFound):
		return http.StatusNotFound, "No tenant is served at this host."
	case errors.Is(err, errNoRoute):
		return http.StatusNotFound, "No route of this tenant matches the method and path."
	case errors.Is(err, errTenantUnavailable):
		return http.StatusServiceUnavailable, "The tenant's config could not be loaded. Retry later."
	case errors.Is(err, proxy.ErrNoHealthyTarget):
		return http.StatusServiceUnavailable, "Every target of the upstream is unhealthy. Retry later."
	case isBlocked(err):
		return http.StatusBadGateway, "The upstream target's address is not public, and this edge lets tenants reach no such address."
	case isTimeout(err), deadlineReached(ctx):
		return http.StatusGatewayTimeout, "The upstream did not respond in time."
	default:
		return http.StatusBadGateway, "The upstream could not be reached."
	}
}

// deadlineMargin is the time before the request's own deadline, such as a
// gRPC client's, within which an upstream failure counts as that deadline
// passing. The upstream runs the same deadline and may reset the call a
// moment before the edge's timer fires, with an error that does not wrap
// it.
const deadlineMargin = 50 * time.Millisecond

func deadlineReached(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) <= deadlineMargin
}

func isBlocked(err error) bool {
	var blocked *netguard.BlockedError
	return errors.As(err, &blocked)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// fail logs a failed request and writes its problem document. Nothing is
// written to a client that went away.
func (e *Edge) fail(w http.ResponseWriter, r *http.Request, state *requestState, err error) {
	status, detail := classify(r.Context(), err)
	state.status = status
	e.logFailure(state, status, err)

	if status == problem.StatusClientClosedRequest {
		return
	}
	problem.Write(w, problem.New(status, detail, state.id))
}

func (e *Edge) logFailure(state *requestState, status int, err error) {
	attrs := []any{"request_id", state.id, "tenant", state.slug, "route", state.route, "revision", revision(state.runtime), "status", status, "error", err}
	if state.call != nil && state.call.Target != nil {
		attrs = append(attrs, "upstream", state.call.Target.Host)
	}

	var pluginErr *chain.Error
	isPlugin := errors.As(err, &pluginErr)
	if isPlugin {
		attrs = append(attrs, "plugin", pluginErr.Step.Plugin, "version", pluginErr.Step.Version, "binding", pluginErr.Step.Binding, "phase", string(pluginErr.Phase))
	}

	// The binding's guard logs its failures at most once a second
	// (errorLogInterval in package chain). The requests that a quarantine
	// or a suppressed failure stopped log at Debug, so a failing binding
	// adds at most one Error line a second here.
	switch {
	case status == problem.StatusClientClosedRequest:
		e.log.Info("client closed the request", attrs...)
	case isPlugin && chain.IsQuarantined(err):
		e.log.Debug("plugin quarantined; request stopped", attrs...)
	case isPlugin && pluginErr.Suppressed:
		e.log.Debug("plugin failed; request stopped", attrs...)
	case isPlugin:
		e.log.Error("plugin failed; request stopped", attrs...)
	case status >= 500:
		e.log.Warn("request failed", attrs...)
	default:
		e.log.Debug("request rejected", attrs...)
	}
}
