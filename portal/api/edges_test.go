package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

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

func TestEdgeViewStaleHeartbeat(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	node := func(silence time.Duration) store.EdgeNode {
		return store.EdgeNode{
			EdgeReport: store.EdgeReport{NodeID: "edge-B", Region: "a", Position: 7, Healthy: true, Detail: "ok"},
			LastSeenAt: now.Add(-silence),
		}
	}

	cases := []struct {
		name        string
		silence     time.Duration
		wantHealthy bool
		wantStale   bool
		wantDetail  string
	}{
		{"recent heartbeat", 2 * time.Second, true, false, "ok"},
		{"at the limit", EdgeHeartbeatTimeout, true, false, "ok"},
		{"past the limit", EdgeHeartbeatTimeout + time.Millisecond, false, true, "no heartbeat for 10 s, above the limit of 10 s"},
		{"stopped edge", 26*time.Second + 100*time.Millisecond, false, true, "no heartbeat for 26 s, above the limit of 10 s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stored := node(c.silence)
			view := newEdgeView(stored, 10, now)
			if view.Healthy != c.wantHealthy {
				t.Errorf("healthy = %v, want %v", view.Healthy, c.wantHealthy)
			}
			if view.Stale != c.wantStale {
				t.Errorf("stale = %v, want %v", view.Stale, c.wantStale)
			}
			if view.Detail != c.wantDetail {
				t.Errorf("detail = %q, want %q", view.Detail, c.wantDetail)
			}
			if view.Lag != 3 {
				t.Errorf("lag = %d, want 3", view.Lag)
			}
			if !stored.Healthy || stored.Detail != "ok" {
				t.Errorf("stored node changed to %+v", stored.EdgeReport)
			}
		})
	}
}

// edgeListing is the body of GET /api/v1/edges as a client decodes it.
type edgeListing struct {
	Edges []struct {
		NodeID       string  `json:"node_id"`
		Healthy      bool    `json:"healthy"`
		Detail       string  `json:"detail"`
		Stale        bool    `json:"stale"`
		SinceContact float64 `json:"since_contact_seconds"`
	} `json:"edges"`
}

func TestListEdgesReportsStaleEdge(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dataSource string) {
		w := startWalkServer(t, dataSource)
		token := createEdgeTokenForTest(t, w)
		for _, node := range []string{"edge-A", "edge-B"} {
			w.must(token.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf(node), http.StatusOK)
		}
		setLastSeen(t, dataSource, "edge-B", time.Now().Add(-26*time.Second))

		var listing edgeListing
		if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/edges", nil, http.StatusOK), &listing); err != nil {
			t.Fatalf("decode edges: %v", err)
		}
		if len(listing.Edges) != 2 {
			t.Fatalf("edges = %+v, want 2", listing.Edges)
		}
		fresh, stopped := listing.Edges[0], listing.Edges[1]
		if !fresh.Healthy {
			t.Errorf("edge-A healthy = false, want true after a recent heartbeat")
		}
		if fresh.Stale {
			t.Errorf("edge-A stale = true, want false")
		}
		if fresh.Detail != "" {
			t.Errorf("edge-A detail = %q, want the reported empty detail", fresh.Detail)
		}
		if stopped.Healthy {
			t.Errorf("edge-B healthy = true, want false after 26 s without a heartbeat")
		}
		if !stopped.Stale {
			t.Errorf("edge-B stale = false, want true")
		}
		if !strings.HasPrefix(stopped.Detail, "no heartbeat for 26 s") {
			t.Errorf("edge-B detail = %q, want it to start with \"no heartbeat for 26 s\"", stopped.Detail)
		}

		nodes, err := w.store.ListEdges(context.Background())
		if err != nil {
			t.Fatalf("ListEdges: %v", err)
		}
		for _, node := range nodes {
			if !node.Healthy || node.Detail != "" {
				t.Errorf("stored %s = healthy %v, detail %q, want the reported healthy and empty detail", node.NodeID, node.Healthy, node.Detail)
			}
		}
	})
}

func TestDeleteEdgeEndpoint(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dataSource string) {
		w := startWalkServer(t, dataSource)
		token := createEdgeTokenForTest(t, w)
		w.must(token.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf("edge-B"), http.StatusOK)
		_, user := w.signupAndLogin("user@example.com")

		w.must(user, "DELETE", "/api/v1/edges/edge-B", nil, http.StatusForbidden)
		if got := listedNodes(t, w); got != "edge-B" {
			t.Fatalf("edges after a user's delete = %q, want edge-B", got)
		}

		w.must(walkOperatorToken, "DELETE", "/api/v1/edges/edge-B", nil, http.StatusNoContent)
		if got := listedNodes(t, w); got != "" {
			t.Errorf("edges after the delete = %q, want none", got)
		}

		english := problemInLanguage(t, w, walkOperatorToken, "", "DELETE", "/api/v1/edges/edge-B", nil, http.StatusNotFound)
		if want := `edge node "edge-B" not found`; english.Detail != want {
			t.Errorf("English detail = %q, want %q", english.Detail, want)
		}
		chinese := problemInLanguage(t, w, walkOperatorToken, "zh-CN", "DELETE", "/api/v1/edges/edge-B", nil, http.StatusNotFound)
		if want := `未找到边缘节点 "edge-B"`; chinese.Detail != want {
			t.Errorf("Chinese detail = %q, want %q", chinese.Detail, want)
		}

		w.must(token.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf("edge-B"), http.StatusOK)
		if got := listedNodes(t, w); got != "edge-B" {
			t.Errorf("edges after a new heartbeat = %q, want edge-B", got)
		}
		checkAuditBefore(t, w, "DELETE", "/api/v1/edges/edge-B", `"node_id":"edge-B"`)

		// Node ids may contain '.' and '_', which Fiber must keep in the
		// path parameter.
		w.must(token.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf("eu.edge_2"), http.StatusOK)
		w.must(walkOperatorToken, "DELETE", "/api/v1/edges/eu.edge_2", nil, http.StatusNoContent)
		if got := listedNodes(t, w); got != "edge-B" {
			t.Errorf("edges after deleting eu.edge_2 = %q, want edge-B", got)
		}
	})
}

// listedEdgeToken is one entry of GET /api/v1/edge-tokens.
type listedEdgeToken struct {
	ID              uint       `json:"id"`
	CreatedAt       time.Time  `json:"created_at"`
	Edges           []string   `json:"edges"`
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at"`
}

func TestEdgeTokenEndpoints(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dataSource string) {
		w := startWalkServer(t, dataSource)
		used := createEdgeTokenForTest(t, w)
		unused := createEdgeTokenForTest(t, w)
		if used.ID == 0 || unused.ID == used.ID {
			t.Fatalf("token ids = %d and %d, want two different ids", used.ID, unused.ID)
		}
		if !strings.HasPrefix(used.Token, "pce_") {
			t.Errorf("token = %q, want the prefix pce_", used.Token)
		}
		w.must(used.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf("edge-A"), http.StatusOK)

		body := w.must(walkOperatorToken, "GET", "/api/v1/edge-tokens", nil, http.StatusOK)
		for _, secret := range []string{used.Token, unused.Token, used.Token[len("pce_"):]} {
			if strings.Contains(string(body), secret) {
				t.Errorf("GET /api/v1/edge-tokens body %s contains a token", body)
			}
		}
		var listed []listedEdgeToken
		if err := json.Unmarshal(body, &listed); err != nil {
			t.Fatalf("decode edge tokens: %v", err)
		}
		if len(listed) != 2 || listed[0].ID != used.ID || listed[1].ID != unused.ID {
			t.Fatalf("listed tokens = %+v, want ids %d and %d", listed, used.ID, unused.ID)
		}
		if got := fmt.Sprint(listed[0].Edges); got != "[edge-A]" {
			t.Errorf("edges of the used token = %s, want [edge-A]", got)
		}
		if listed[0].LastHeartbeatAt == nil {
			t.Errorf("last_heartbeat_at of the used token = null, want the heartbeat of edge-A")
		}
		if listed[1].Edges == nil || len(listed[1].Edges) != 0 {
			t.Errorf("edges of the unused token = %#v, want an empty list", listed[1].Edges)
		}
		if listed[1].LastHeartbeatAt != nil {
			t.Errorf("last_heartbeat_at of the unused token = %v, want null", listed[1].LastHeartbeatAt)
		}
		if listed[0].CreatedAt.IsZero() {
			t.Errorf("created_at of the used token is zero")
		}

		_, user := w.signupAndLogin("user@example.com")
		w.must(user, "GET", "/api/v1/edge-tokens", nil, http.StatusForbidden)
		w.must(user, "DELETE", fmt.Sprintf("/api/v1/edge-tokens/%d", used.ID), nil, http.StatusForbidden)
		w.must(used.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf("edge-A"), http.StatusOK)

		w.must(walkOperatorToken, "DELETE", fmt.Sprintf("/api/v1/edge-tokens/%d", used.ID), nil, http.StatusNoContent)
		w.must(used.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf("edge-A"), http.StatusUnauthorized)
		w.must(used.Token, "GET", "/api/v1/edge/changes", nil, http.StatusUnauthorized)
		w.must(unused.Token, "POST", "/api/v1/edge/heartbeat", heartbeatOf("edge-C"), http.StatusOK)

		problem := problemInLanguage(t, w, walkOperatorToken, "", "DELETE", fmt.Sprintf("/api/v1/edge-tokens/%d", used.ID), nil, http.StatusNotFound)
		if want := fmt.Sprintf(`edge token "%d" not found`, used.ID); problem.Detail != want {
			t.Errorf("detail of a second delete = %q, want %q", problem.Detail, want)
		}
		w.must(walkOperatorToken, "DELETE", "/api/v1/edge-tokens/abc", nil, http.StatusNotFound)
		if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/edge-tokens", nil, http.StatusOK), &listed); err != nil {
			t.Fatalf("decode edge tokens: %v", err)
		}
		if len(listed) != 1 || listed[0].ID != unused.ID {
			t.Errorf("tokens after the delete = %+v, want only %d", listed, unused.ID)
		}
		checkAuditBefore(t, w, "DELETE", fmt.Sprintf("/api/v1/edge-tokens/%d", used.ID), `"edges":["edge-A"]`)
	})
}

// createdEdgeTokenBody is the body of POST /api/v1/edge-tokens.
type createdEdgeTokenBody struct {
	ID        uint      `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Token     string    `json:"token"`
}

// createEdgeTokenForTest creates an edge token as the operator and checks
// the Location header of the response.
func createEdgeTokenForTest(t *testing.T, w *walkServer) createdEdgeTokenBody {
	t.Helper()

	req, err := http.NewRequest("POST", w.base+"/api/v1/edge-tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+walkOperatorToken)
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatalf("POST /api/v1/edge-tokens: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/edge-tokens: status = %d, want 201; body %s", resp.StatusCode, data)
	}

	var created createdEdgeTokenBody
	if err := json.Unmarshal(data, &created); err != nil {
		t.Fatalf("decode edge token: %v", err)
	}
	if want := fmt.Sprintf("/api/v1/edge-tokens/%d", created.ID); resp.Header.Get("Location") != want {
		t.Errorf("Location = %q, want %q", resp.Header.Get("Location"), want)
	}
	if created.CreatedAt.IsZero() {
		t.Errorf("created_at is zero in %s", data)
	}
	return created
}

func heartbeatOf(node string) map[string]any {
	return map[string]any{"node_id": node, "region": "eu", "position": 0, "revisions": map[string]int64{}, "healthy": true}
}

// listedNodes returns the node ids of GET /api/v1/edges, joined by commas.
func listedNodes(t *testing.T, w *walkServer) string {
	t.Helper()
	var listing edgeListing
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/edges", nil, http.StatusOK), &listing); err != nil {
		t.Fatalf("decode edges: %v", err)
	}
	ids := make([]string, 0, len(listing.Edges))
	for _, edge := range listing.Edges {
		ids = append(ids, edge.NodeID)
	}
	return strings.Join(ids, ",")
}

// checkAuditBefore checks that the operator's audit log has an event of the
// request whose "before" contains want.
func checkAuditBefore(t *testing.T, w *walkServer, method, resource, want string) {
	t.Helper()
	var page auditPage
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/audit", nil, http.StatusOK), &page); err != nil {
		t.Fatalf("decode audit log: %v", err)
	}
	for _, event := range page.Events {
		if event.Method == method && event.Resource == resource {
			if !strings.Contains(string(event.Before), want) {
				t.Errorf("audit before of %s %s = %s, want it to contain %s", method, resource, event.Before, want)
			}
			return
		}
	}
	t.Errorf("audit log has no %s %s event", method, resource)
}

// setLastSeen sets the last heartbeat time of a stored edge node through a
// separate database connection, so a test need not wait for a node to fall
// silent.
func setLastSeen(t *testing.T, dataSource, nodeID string, at time.Time) {
	t.Helper()

	var dialector gorm.Dialector
	if store.IsPostgres(dataSource) {
		dialector = postgres.Open(dataSource)
	} else {
		dialector = sqlite.Open(strings.TrimPrefix(dataSource, "sqlite://") + "?_pragma=busy_timeout(5000)")
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("open %s: %v", store.RedactURL(dataSource), err)
	}
	conn, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	result := db.Exec("UPDATE edge_nodes SET last_seen_at = ? WHERE node_id = ?", at.UTC(), nodeID)
	if result.Error != nil || result.RowsAffected != 1 {
		t.Fatalf("set last_seen_at of %s: %v, %d rows", nodeID, result.Error, result.RowsAffected)
	}
}
