package integration

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// edgeList is the part of GET /api/v1/edges that the node id tests read.
type edgeList struct {
	Edges []struct {
		NodeID         string `json:"node_id"`
		Healthy        bool   `json:"healthy"`
		Detail         string `json:"detail"`
		NodeIDConflict bool   `json:"node_id_conflict"`
	} `json:"edges"`
}

// TestTwoEdgesWithOneNodeID starts two edge processes with one node id and
// a third that restarts. The portal must report the shared node id as a
// conflict, and both twins must log it, while the restarted edge is not
// in conflict.
func TestTwoEdgesWithOneNodeID(t *testing.T) {
	p := startPortal(t)
	var token struct {
		Token string `json:"token"`
	}
	p.call(t, http.MethodPost, "/edge-tokens", nil, &token)

	first := startEdge(t, p, token.Token, "twin", "test", "", t.TempDir())
	second := startEdge(t, p, token.Token, "twin", "test", "", t.TempDir())
	solo := startEdge(t, p, token.Token, "solo", "test", "", t.TempDir())
	solo.kill()
	solo.restart(t)

	var list edgeList
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p.call(t, http.MethodGet, "/edges", nil, &list)
		if conflictOf(list, "twin") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !conflictOf(list, "twin") {
		t.Fatalf("GET /api/v1/edges = %+v after 20 s, want twin in conflict", list)
	}
	for _, edge := range list.Edges {
		if edge.NodeID == "twin" && (edge.Healthy || !strings.Contains(edge.Detail, "--node-id")) {
			t.Errorf("twin healthy %v, detail %q; want not healthy and a detail naming --node-id", edge.Healthy, edge.Detail)
		}
		if edge.NodeID == "solo" && edge.NodeIDConflict {
			t.Errorf("restarted edge solo is in conflict: %+v", edge)
		}
	}

	for _, twin := range []*edgeProc{first, second} {
		waitForLog(t, twin.logPath, "give each edge its own --node-id", 10*time.Second)
	}
}

func conflictOf(list edgeList, node string) bool {
	for _, edge := range list.Edges {
		if edge.NodeID == node {
			return edge.NodeIDConflict
		}
	}
	return false
}

// waitForLog waits until the log file contains text.
func waitForLog(t *testing.T, path, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), text) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("log %s lacks %q after %v", path, text, timeout)
}
