package api

import (
	"testing"

	"portcullis.dev/portal/store"
)

func TestPropagationOfStates(t *testing.T) {
	latest := store.FeedEvent{Position: 40, ChangeEvent: store.ChangeEvent{Tenant: "acme", Revision: 5}}
	reason := `pre-flight of plugin "guard" version "1.0.0" for binding "b1": test vector "x" failed`
	node := func(held int64, position int64, rejected map[string]store.EdgeRejection) store.EdgeNode {
		return store.EdgeNode{EdgeReport: store.EdgeReport{
			NodeID: "a-1", Region: "a", Position: position,
			Revisions: map[string]int64{"acme": held}, Rejected: rejected,
		}}
	}

	cases := []struct {
		name       string
		node       store.EdgeNode
		wantState  string
		wantReason string
	}{
		{"serving", node(5, 40, nil), StateServing, ""},
		{"rejected latest", node(4, 40, map[string]store.EdgeRejection{"acme": {Revision: 5, Reason: reason}}), StateRejected, reason},
		{"rejected older", node(3, 40, map[string]store.EdgeRejection{"acme": {Revision: 4, Reason: reason}}), StateBehind, ""},
		{"rejected other tenant", node(4, 40, map[string]store.EdgeRejection{"shop": {Revision: 5, Reason: reason}}), StateBehind, ""},
		{"serving after rejection", node(5, 40, map[string]store.EdgeRejection{"acme": {Revision: 5, Reason: reason}}), StateServing, ""},
		{"ready", node(0, 40, nil), StateReady, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := propagationOf(c.node, latest)
			if got.State != c.wantState {
				t.Errorf("state = %q, want %q", got.State, c.wantState)
			}
			if got.Reason != c.wantReason {
				t.Errorf("reason = %q, want %q", got.Reason, c.wantReason)
			}
		})
	}
}

func TestCountRegionRejected(t *testing.T) {
	regions := map[string]*RegionPropagation{}
	countRegion(regions, EdgePropagation{Region: "a", State: StateRejected})
	countRegion(regions, EdgePropagation{Region: "a", State: StateBehind})

	if got := regions["a"].Rejected; got != 1 {
		t.Errorf("rejected = %d, want 1", got)
	}
	if got := regions["a"].Behind; got != 1 {
		t.Errorf("behind = %d, want 1", got)
	}
}
