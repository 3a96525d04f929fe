package integration

import (
	"net/http"
	"testing"
	"time"
)

// TestEdgeBlocksLoopbackUpstreamByDefault checks the default of
// --upstream-allow end to end: an edge started without it responds with 502
// to a tenant whose upstream listens on loopback, and an edge that allows
// 127.0.0.0/8 serves the same tenant.
func TestEdgeBlocksLoopbackUpstreamByDefault(t *testing.T) {
	p := startPortal(t)
	var answer struct {
		Token string `json:"token"`
	}
	p.call(t, http.MethodPost, "/edge-tokens", nil, &answer)
	guarded := startEdge(t, p, answer.Token, "guarded", "a", "", t.TempDir(), "--upstream-allow", "")
	allowing := startEdge(t, p, answer.Token, "allowing", "a", "", t.TempDir())

	c := &cluster{portal: p, edges: []*edgeProc{allowing}, token: answer.Token}
	c.seed(t, "acme", startUpstream(t))
	client := &http.Client{Timeout: 2 * time.Second}
	c.waitServed(t, client, "acme", "/base", time.Now(), 10*time.Second)

	deadline := time.Now().Add(10 * time.Second)
	status := guarded.get(client, "acme", "/base")
	for status != http.StatusBadGateway && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		status = guarded.get(client, "acme", "/base")
	}
	if status != http.StatusBadGateway {
		t.Errorf("edge without --upstream-allow: status %d for a loopback upstream, want 502", status)
	}
}
