package allinone

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	edgesync "portcullis.dev/edge/sync"
	"portcullis.dev/portal/store"
)

// guardSource denies every request when its config sets mode deny-all. Its vector
// forbids that under any binding's config, so the edge's pre-flight must keep
// such a config out of service.
const guardSource = `func access(ctx, conf) {
    if conf["mode"] == "deny-all" {
        ctx.exit(403, "denied")
    }
}

func header_filter(ctx, conf) {
    ctx.resp.set_header("X-Mode", conf["mode"])
}
`

const guardVectors = `[{"name": "never denies everything", "binding_config": true,
  "request": {"path": "/"}, "expect": {"status": 200}}]`

// guardStrictSource is a later version of guard that also denies every
// request in mode strict, which its binding_config vector forbids.
const guardStrictSource = `func access(ctx, conf) {
    if conf["mode"] == "deny-all" || conf["mode"] == "strict" {
        ctx.exit(403, "denied")
    }
}

func header_filter(ctx, conf) {
    ctx.resp.set_header("X-Mode", conf["mode"])
}
`

func TestPreflightKeepsFailingConfigOut(t *testing.T) {
	h := startHarness(t)
	h.addTenant("acme", upstream(t, "acme"), "/")
	publishGuard(h, "1.0.0", guardSource)
	h.mustAPI(http.MethodPost, "/api/v1/tenants/acme/installs", map[string]any{"plugin": "guard", "range": "^1.0.0"}, nil)
	bindingID := h.bind("acme", "guard", "", map[string]any{"mode": "strict"})
	bindingPath := "/api/v1/tenants/acme/bindings/" + bindingID
	pc := h.protocols()[0]

	if mode := modeOf(t, pc); mode != "strict" {
		t.Fatalf("before the change: X-Mode %q, want strict", mode)
	}

	// The portal runs the vectors when a binding is written, through the
	// binding API and through an apply, so such a config never reaches
	// the edge that way.
	err := h.api.Do(context.Background(), http.MethodPatch, bindingPath, map[string]any{"config": map[string]any{"mode": "deny-all"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `test vector "never denies everything"`) {
		t.Fatalf("PATCH deny-all: error %v, want a 422 that names the failing vector", err)
	}
	var document map[string]any
	h.mustAPI(http.MethodGet, "/api/v1/tenants/acme/export", nil, &document)
	document["bindings"].([]any)[0].(map[string]any)["config"] = map[string]any{"mode": "deny-all"}
	err = h.api.Do(context.Background(), http.MethodPost, "/api/v1/tenants/acme/apply", document, nil)
	if err == nil || !strings.Contains(err.Error(), "bindings[0].config") {
		t.Fatalf("apply deny-all: error %v, want a 422 on bindings[0].config", err)
	}

	// A new version that the binding follows runs the vectors with the
	// binding's config too, so the install stays on 1.0.0 and records why.
	publishGuard(h, "1.1.0", guardStrictSource)
	var install struct {
		Version  string `json:"version"`
		HeldBack *struct {
			Version string `json:"version"`
			Vector  string `json:"vector"`
		} `json:"held_back"`
	}
	h.mustAPI(http.MethodGet, "/api/v1/tenants/acme/installs/guard", nil, &install)
	if install.Version != "1.0.0" || install.HeldBack == nil || install.HeldBack.Version != "1.1.0" || install.HeldBack.Vector != "never denies everything" {
		t.Fatalf("install after publishing 1.1.0 = %+v, want 1.0.0 with 1.1.0 held back by the vector", install)
	}

	// A write in a Batch without CheckedBindings leaves the vectors to the
	// edge, as a config stored by a portal without a BindingTester does.
	// The edge's pre-flight keeps it out of service.
	writeUnchecked(t, h, "acme", bindingID, `{"mode":"deny-all"}`)
	failures := waitForPreflightFailures(t, h, 1)
	if failures[0].Plugin != "guard" || failures[0].Tenant != "acme" {
		t.Errorf("failure: got %+v, want tenant acme and plugin guard", failures[0])
	}
	// The process's own edge reports the rejection to the tenant's
	// propagation view, as a separate edge's heartbeat does.
	local := waitForLocalEdgeState(t, h, "acme", "rejected")
	if !strings.Contains(local.Reason, `plugin "guard"`) {
		t.Errorf("propagation reason %q does not name the plugin guard", local.Reason)
	}
	if mode := modeOf(t, pc); mode != "strict" {
		t.Errorf("after a failed pre-flight: X-Mode %q, want the old version to keep serving", mode)
	}

	h.mustAPI(http.MethodPatch, bindingPath, map[string]any{"config": map[string]any{"mode": "normal"}}, nil)
	waitFor(t, "mode normal", func() (bool, error) {
		return modeOf(t, pc) == "normal", nil
	})
	if failures := preflightFailures(t, h); len(failures) != 0 {
		t.Errorf("failures after a passing change: got %+v, want none", failures)
	}
}

// writeUnchecked replaces the config of the binding in a store Batch
// without CheckedBindings, which skips the portal's binding_config vectors.
func writeUnchecked(t *testing.T, h *harness, slug, id, config string) {
	t.Helper()
	st := h.server.portal.Store()
	_, err := st.Batch(context.Background(), slug, -1, "test/unchecked", func(ctx context.Context) error {
		_, err := st.UpdateBinding(ctx, slug, id, store.BindingPatch{Config: json.RawMessage(config)})
		return err
	})
	if err != nil {
		t.Fatalf("write config %s without checks: %v", config, err)
	}
}

// publishGuard publishes version of the guard plugin with source and the
// guard's vectors.
func publishGuard(h *harness, version, source string) {
	h.t.Helper()
	h.mustAPI(http.MethodPost, "/api/v1/plugins", map[string]any{
		"name": "guard", "version": version, "source": source,
		"test_vectors": json.RawMessage(guardVectors),
	}, nil)
}

// modeOf returns the X-Mode header of one request, failing on any status
// but 200.
func modeOf(t *testing.T, pc protocolCase) string {
	t.Helper()
	response, body, err := get(context.Background(), pc.client, pc.baseURL("acme.localhost")+"/", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", response.StatusCode, body)
	}
	return response.Header.Get("X-Mode")
}

type preflightFailure struct {
	Tenant string `json:"tenant"`
	Plugin string `json:"plugin"`
	Error  string `json:"error"`
}

func preflightFailures(t *testing.T, h *harness) []preflightFailure {
	t.Helper()
	response, err := http.Get("http://" + h.server.Edge().Addrs().Admin + "/debug/preflight")
	if err != nil {
		t.Fatalf("read pre-flight failures: %v", err)
	}
	defer response.Body.Close()

	var failures []preflightFailure
	if err := json.NewDecoder(response.Body).Decode(&failures); err != nil {
		t.Fatalf("decode pre-flight failures: %v", err)
	}
	return failures
}

func waitForPreflightFailures(t *testing.T, h *harness, want int) []preflightFailure {
	t.Helper()
	deadline := time.Now().Add(swapDeadline)
	for {
		failures := preflightFailures(t, h)
		if len(failures) == want {
			return failures
		}
		if time.Now().After(deadline) {
			t.Fatalf("pre-flight failures: got %d after %v, want %d", len(failures), swapDeadline, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type edgePropagation struct {
	NodeID string `json:"node_id"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// waitForLocalEdgeState waits until the tenant's propagation view shows the
// all-in-one edge in state, and returns its entry.
func waitForLocalEdgeState(t *testing.T, h *harness, tenant, state string) edgePropagation {
	t.Helper()
	wait := 3 * edgesync.DefaultHeartbeat
	deadline := time.Now().Add(wait)
	for {
		var view struct {
			Edges []edgePropagation `json:"edges"`
		}
		h.mustAPI(http.MethodGet, "/api/v1/tenants/"+tenant+"/propagation", nil, &view)
		for _, edge := range view.Edges {
			if edge.NodeID == localNodeID && edge.State == state {
				return edge
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("propagation of %s: edges %+v after %v, want %s in state %s", tenant, view.Edges, wait, localNodeID, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
