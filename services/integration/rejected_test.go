package integration

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// guardSource denies every request when its config sets mode deny-all, and
// its vector forbids that under the binding's config, so the edge's
// pre-flight rejects such a config. guardStrictSource, a later version,
// also denies every request in mode strict.
const (
	guardSource = `func access(ctx, conf) {
    if conf["mode"] == "deny-all" {
        ctx.exit(403, "denied")
    }
}
`
	guardStrictSource = `func access(ctx, conf) {
    if conf["mode"] == "deny-all" || conf["mode"] == "strict" {
        ctx.exit(403, "denied")
    }
}
`
)

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

	publishGuard(t, p, "1.0.0", guardSource)
	p.call(t, http.MethodPost, "/tenants/acme/installs", map[string]any{"plugin": "guard", "range": "^1.0.0"}, nil)
	// The binding follows the install and runs in the trusted tier, so its
	// pre-flight runs in the edge process; edge/preflight_test.go covers
	// the sandboxed tier.
	var binding struct {
		ID string `json:"id"`
	}
	p.call(t, http.MethodPost, "/tenants/acme/bindings", map[string]any{
		"plugin": "guard", "config": map[string]any{"mode": "strict"}, "tier": "trusted",
	}, &binding)
	client := &http.Client{Timeout: 2 * time.Second}
	c.waitServed(t, client, "acme", "/base", time.Now(), 10*time.Second)
	c.waitCaughtUp(t, 10*time.Second)

	// The portal runs the vectors when a binding is written and when a
	// new version would move the bindings that follow the install, so
	// publishing 1.1.0 holds the install back on 1.0.0.
	publishGuard(t, p, "1.1.0", guardStrictSource)
	var install struct {
		Version  string `json:"version"`
		HeldBack *struct {
			Version string `json:"version"`
		} `json:"held_back"`
	}
	p.call(t, http.MethodGet, "/tenants/acme/installs/guard", nil, &install)
	if install.Version != "1.0.0" || install.HeldBack == nil || install.HeldBack.Version != "1.1.0" {
		t.Fatalf("install after publishing 1.1.0 = %+v, want 1.0.0 with 1.1.0 held back", install)
	}

	// A config that no portal check saw, written straight into the
	// database, reaches the edge with the next revision, and the edge's
	// pre-flight rejects it.
	writeConfigInDatabase(t, p, binding.ID, `{"mode":"deny-all"}`)
	p.call(t, http.MethodPost, "/tenants/acme/upstreams", map[string]any{
		"name": "spare", "targets": []map[string]any{{"url": "http://127.0.0.1:9", "weight": 1}},
	}, nil)
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

	p.call(t, http.MethodPatch, "/tenants/acme/bindings/"+binding.ID, map[string]any{"config": map[string]any{"mode": "normal"}}, nil)
	serving := waitEdgeState(t, p, "acme", "serving", 15*time.Second)
	if serving.Reason != "" {
		t.Errorf("reason after a passing change = %q, want none", serving.Reason)
	}
}

// writeConfigInDatabase replaces the config of the binding in the portal's
// PostgreSQL database, past every check of the portal.
func writeConfigInDatabase(t *testing.T, p *portal, bindingID, config string) {
	t.Helper()
	db, err := sql.Open("pgx", p.db)
	if err != nil {
		t.Fatalf("open the portal database: %v", err)
	}
	defer db.Close()

	result, err := db.Exec("UPDATE bindings SET config = $1 WHERE public_id = $2", config, bindingID)
	if err != nil {
		t.Fatalf("write config of binding %s: %v", bindingID, err)
	}
	if rows, _ := result.RowsAffected(); rows != 1 {
		t.Fatalf("write config of binding %s: %d rows changed, want 1", bindingID, rows)
	}
}

// publishGuard publishes version of the guard plugin with source and the
// guard's vectors.
func publishGuard(t *testing.T, p *portal, version, source string) {
	t.Helper()
	p.call(t, http.MethodPost, "/plugins", map[string]any{
		"name": "guard", "version": version, "source": source,
		"test_vectors": json.RawMessage(guardVectors),
	}, nil)
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
