package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// guardSource denies every request when its config sets mode deny-all, and
// its vector forbids that under the binding's config, so the edge's
// pre-flight rejects such a config.
const guardSource = `func access(ctx, conf) {
    if conf["mode"] == "deny-all" {
        ctx.exit(403, "denied")
    }
}
`

const guardVectors = `[{"name": "never denies everything", "binding_config": true,
  "request": {"path": "/base"}, "expect": {"status": 200}}]`

type propagationEdge struct {
	NodeID string `json:"node_id"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

func TestPropagationShowsRejectedRevision(t *testing.T) {
	p := startPortal(t)
	var answer struct {
		Token string `json:"token"`
	}
	p.call(t, http.MethodPost, "/edge-tokens", nil, &answer)
	edge := startEdge(t, p, answer.Token, "a-1", "a", "", t.TempDir())
	c := &cluster{portal: p, edges: []*edgeProc{edge}, token: answer.Token}
	c.seed(t, "acme", startUpstream(t))

	p.call(t, http.MethodPost, "/plugins", map[string]any{
		"name": "guard", "version": "1.0.0", "source": guardSource,
		"test_vectors": json.RawMessage(guardVectors),
	}, nil)
	// The binding runs in the trusted tier, so its pre-flight runs in the
	// edge process; edge/preflight_test.go covers the sandboxed tier.
	var binding struct {
		ID string `json:"id"`
	}
	p.call(t, http.MethodPost, "/tenants/acme/bindings", map[string]any{
		"plugin": "guard", "version": "1.0.0", "config": map[string]any{"mode": "normal"}, "tier": "trusted",
	}, &binding)
	client := &http.Client{Timeout: 2 * time.Second}
	c.waitServed(t, client, "acme", "/base", time.Now(), 10*time.Second)
	c.waitCaughtUp(t, 10*time.Second)

	// The binding API runs the vectors and rejects this config, so the
	// change comes through an apply, whose transaction leaves them to the
	// edge's pre-flight.
	var document map[string]any
	p.call(t, http.MethodGet, "/tenants/acme/export", nil, &document)
	document["bindings"].([]any)[0].(map[string]any)["config"] = map[string]any{"mode": "deny-all"}
	p.call(t, http.MethodPost, "/tenants/acme/apply", document, nil)
	rejected := waitEdgeState(t, p, "acme", "rejected", 15*time.Second)
	if !strings.Contains(rejected.Reason, `plugin "guard"`) {
		t.Errorf("reason %q does not name the plugin guard", rejected.Reason)
	}
	if status := edge.get(client, "acme", "/base"); status != http.StatusOK {
		t.Errorf("GET /base after the rejected change: status %d, want 200 from the old config", status)
	}

	// A restarted edge loads the tenant afresh. Its last-known-good copy
	// on disk is the accepted revision, so the rejected one still does not
	// serve, and the rejection is reported again.
	edge.kill()
	edge.restart(t)
	if status := edge.get(client, "acme", "/base"); status != http.StatusOK {
		t.Errorf("GET /base after the edge restarted: status %d, want 200 from the last-known-good config", status)
	}
	waitEdgeState(t, p, "acme", "rejected", 15*time.Second)

	p.call(t, http.MethodPatch, "/tenants/acme/bindings/"+binding.ID, map[string]any{"config": map[string]any{"mode": "strict"}}, nil)
	serving := waitEdgeState(t, p, "acme", "serving", 15*time.Second)
	if serving.Reason != "" {
		t.Errorf("reason after a passing change = %q, want none", serving.Reason)
	}
}

// waitEdgeState polls the tenant's propagation until its only edge is in
// state, and returns that edge.
func waitEdgeState(t *testing.T, p *portal, tenant, state string, timeout time.Duration) propagationEdge {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last []propagationEdge
	for time.Now().Before(deadline) {
		var answer struct {
			Edges []propagationEdge `json:"edges"`
		}
		p.call(t, http.MethodGet, "/tenants/"+tenant+"/propagation", nil, &answer)
		last = answer.Edges
		if len(last) == 1 && last[0].State == state {
			return last[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("propagation of %s: edges %+v after %s, want one edge in state %q", tenant, last, timeout, state)
	return propagationEdge{}
}
