package pluginhost

import "fmt"

// Phase names the point in request processing at which a hook runs. A
// plugin's hook for a phase is the Risor function with the same name.
type Phase string

const (
	// PhaseRewrite runs first. Its hooks may change the upstream path.
	PhaseRewrite Phase = "rewrite"

	// PhaseAccess runs after rewrite and decides whether the request may
	// reach the upstream.
	PhaseAccess Phase = "access"

	// PhaseHeaderFilter runs once the upstream response status and headers
	// are known.
	PhaseHeaderFilter Phase = "header_filter"
)

// Phases lists every phase in the order they run.
var Phases = []Phase{PhaseRewrite, PhaseAccess, PhaseHeaderFilter}

// phaseOrder is a private copy of Phases, so that a caller who changes the
// exported slice cannot change which hooks a plugin has.
var phaseOrder = [...]Phase{PhaseRewrite, PhaseAccess, PhaseHeaderFilter}

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
