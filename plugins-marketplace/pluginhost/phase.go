package pluginhost

import (
	"fmt"
	"net/http"
)

// Phase names the point in request processing at which a hook runs. A
// plugin's hook for a phase is the Risor function with the same name.
type Phase string

const (
	// PhaseRewrite runs first. Its hooks may change the upstream path.
	PhaseRewrite Phase = "rewrite"

	// PhaseAccess runs after rewrite and decides whether the request may
	// reach the upstream.
	PhaseAccess Phase = "access"

	// PhaseBeforeProxy runs on the upstream request right before it is
	// sent. Its hooks may still change headers and the path.
	PhaseBeforeProxy Phase = "before_proxy"

	// PhaseHeaderFilter runs once the upstream response status and headers
	// are known, or on the response of a hook that called ctx.exit.
	PhaseHeaderFilter Phase = "header_filter"

	// PhaseBodyFilter runs on each chunk of the upstream response body.
	PhaseBodyFilter Phase = "body_filter"

	// PhaseLog runs after the response went to the client, off the
	// client's critical path.
	PhaseLog Phase = "log"
)

// Phases lists every phase in the order they run.
var Phases = []Phase{PhaseRewrite, PhaseAccess, PhaseBeforeProxy, PhaseHeaderFilter, PhaseBodyFilter, PhaseLog}

// phaseOrder is a private copy of Phases, so that a caller who changes the
// exported slice cannot change which hooks a plugin has.
var phaseOrder = [...]Phase{PhaseRewrite, PhaseAccess, PhaseBeforeProxy, PhaseHeaderFilter, PhaseBodyFilter, PhaseLog}

const phaseCount = len(phaseOrder)

// phaseIndex returns the position of ph in phaseOrder.
func phaseIndex(ph Phase) (int, error) {
	for i, known := range phaseOrder {
		if known == ph {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown phase %q, expected one of %q", ph, phaseOrder)
}

// ResponseHasBody reports whether a response to method with status can
// carry a body that body_filter runs on (RFC 9110 sections 6.4.1 and
// 9.3.2): not for HEAD, 204 or 304. The edge and test vectors share it.
func ResponseHasBody(method string, status int) bool {
	if method == http.MethodHead {
		return false
	}
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// RunExitResponse runs headerFilter, the header_filter phase of a chain
// that has one, on the response of the exit in ex that a request phase
// set. The hooks see ctx.resp.status as the exit's status, and one that
// calls ctx.exit replaces the exit. The edge and test vectors share it.
func RunExitResponse(ex *Exchange, hasHeaderFilter bool, headerFilter func() error) error {
	exit := ex.Exit
	ex.Response.Status = exit.Status
	if !hasHeaderFilter {
		return nil
	}

	ex.Exit = nil
	if err := headerFilter(); err != nil {
		return err
	}
	if ex.Exit == nil {
		ex.Exit = exit
	}
	ex.Response.Status = ex.Exit.Status
	return nil
}
