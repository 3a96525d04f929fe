package portal_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// feedEvent is the client's view of one change feed event.
type feedEvent struct {
	Position int64  `json:"position"`
	Tenant   string `json:"tenant"`
	Revision int64  `json:"revision"`
}

func (tp *testPortal) edgeToken() string {
	tp.t.Helper()
	resp := tp.do("POST", "/api/v1/edge-tokens", nil, http.StatusCreated)
	token := decodeInto[struct {
		Token string `json:"token"`
	}](tp.t, resp).Token
	if !strings.HasPrefix(token, "pce_") {
		tp.t.Fatalf("edge token = %q, want the pce_ prefix", token)
	}
	return token
}

// addRouteLater creates a route after the delay in a goroutine and sends
// the response status on the returned channel.
func (tp *testPortal) addRouteLater(slug, name string, delay time.Duration) <-chan int {
	status := make(chan int, 1)
	go func() {
		time.Sleep(delay)
		body := fmt.Sprintf(`{"name":%q,"paths":["/%s"],"methods":["GET"],"upstream":"backend"}`, name, name)
		req, err := http.NewRequest("POST", tp.base+"/api/v1/tenants/"+slug+"/routes", strings.NewReader(body))
		if err != nil {
			status <- 0
			return
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := tp.client.Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	return status
}

func (tp *testPortal) feedChanges(token, query string) []feedEvent {
	tp.t.Helper()
	resp := tp.send(request{method: "GET", path: "/api/v1/edge/changes?" + query, token: &token})
	if resp.status != http.StatusOK {
		tp.t.Fatalf("GET changes?%s: status = %d; body %s", query, resp.status, resp.body)
	}
	return decodeInto[struct {
		Events []feedEvent `json:"events"`
	}](tp.t, resp).Events
}

func TestEdgeEndpointsNeedEdgeToken(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	edgeToken := tp.edgeToken()

	missing, operator, wrong := "", testToken, "pce_wrong-token-0123456789"
	endpoints := []struct{ method, path, body string }{
		{"POST", "/api/v1/edge/heartbeat", `{"node_id":"n1","region":"r1","position":0,"revisions":{}}`},
		{"GET", "/api/v1/edge/changes?after=0", ""},
		{"GET", "/api/v1/edge/tenants/acme/bundle", ""},
	}
	tokens := []struct {
		name  string
		token *string
		want  int
	}{
		{"missing", &missing, http.StatusUnauthorized},
		{"operator token", &operator, http.StatusUnauthorized},
		{"wrong", &wrong, http.StatusUnauthorized},
		{"edge token", &edgeToken, http.StatusOK},
	}
	for _, endpoint := range endpoints {
		for _, tt := range tokens {
			t.Run(endpoint.path+" "+tt.name, func(t *testing.T) {
				var body any
				if endpoint.body != "" {
					body = endpoint.body
				}
				resp := tp.send(request{method: endpoint.method, path: endpoint.path, body: body, token: tt.token})
				if resp.status != tt.want {
					t.Errorf("%s %s status = %d, want %d; body %s", endpoint.method, endpoint.path, resp.status, tt.want, resp.body)
				}
				if strings.Contains(string(resp.body), edgeToken) {
					t.Errorf("response %s contains the edge token", resp.body)
				}
			})
		}
	}

	// The edge token opens only the edge endpoints.
	resp := tp.send(request{method: "GET", path: "/api/v1/tenants", token: &edgeToken})
	if resp.status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/tenants with an edge token: status = %d, want 401", resp.status)
	}
}

func TestLongPollReturnsChangesAfterPosition(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	token := tp.edgeToken()

	all := tp.feedChanges(token, "after=0")
	if len(all) < 3 {
		t.Fatalf("changes after 0 = %d events, want at least 3 from the seed", len(all))
	}
	middle := all[1].Position
	after := tp.feedChanges(token, fmt.Sprintf("after=%d", middle))
	if len(after) != len(all)-2 || after[0].Position <= middle {
		t.Errorf("changes after %d = %+v, want the %d events above it", middle, after, len(all)-2)
	}

	head := all[len(all)-1].Position
	started := time.Now()
	written := tp.addRouteLater("acme", "late", 200*time.Millisecond)
	events := tp.feedChanges(token, fmt.Sprintf("after=%d&wait=5s", head))
	elapsed := time.Since(started)
	if status := <-written; status != http.StatusCreated {
		t.Fatalf("create route during the long poll: status = %d, want 201", status)
	}

	if len(events) != 1 || events[0].Tenant != "acme" || events[0].Position <= head {
		t.Fatalf("long poll after %d = %+v, want the one new change", head, events)
	}
	if elapsed > 3*time.Second {
		t.Errorf("long poll returned after %s, want soon after the change at 200ms", elapsed)
	}

	started = time.Now()
	if events := tp.feedChanges(token, fmt.Sprintf("after=%d&wait=300ms", events[0].Position)); len(events) != 0 {
		t.Errorf("long poll with no change = %+v, want none", events)
	}
	if elapsed := time.Since(started); elapsed < 250*time.Millisecond {
		t.Errorf("long poll with no change returned after %s, want about the 300ms wait", elapsed)
	}
}

func TestLongPollRejectsBadQuery(t *testing.T) {
	tp := startPortal(t)
	token := tp.edgeToken()

	for _, query := range []string{"after=-1", "after=x", "wait=31s", "wait=soon"} {
		resp := tp.send(request{method: "GET", path: "/api/v1/edge/changes?" + query, token: &token})
		if resp.status != http.StatusBadRequest && resp.status != http.StatusUnprocessableEntity {
			t.Errorf("GET changes?%s: status = %d, want 400 or 422; body %s", query, resp.status, resp.body)
		}
	}
}

// readStream opens the change stream with the header and returns the
// first count events, reading their SSE id and data lines.
func readStream(t *testing.T, tp *testPortal, token string, header map[string]string, count int) ([]string, []feedEvent) {
	t.Helper()
	req, err := http.NewRequest("GET", tp.base+"/api/v1/edge/changes/stream", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for name, value := range header {
		req.Header.Set(name, value)
	}

	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream status = %d, Content-Type %q; want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	var ids []string
	var events []feedEvent
	scanner := bufio.NewScanner(resp.Body)
	for len(events) < count && scanner.Scan() {
		line := scanner.Text()
		if id, found := strings.CutPrefix(line, "id: "); found {
			ids = append(ids, id)
		}
		if data, found := strings.CutPrefix(line, "data: "); found {
			var event feedEvent
			if err := json.Unmarshal([]byte(data), &event); err != nil {
				t.Fatalf("decode event %s: %v", data, err)
			}
			events = append(events, event)
		}
	}
	return ids, events
}

func TestStreamResumesWithLastEventID(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	token := tp.edgeToken()
	all := tp.feedChanges(token, "after=0")
	last := all[len(all)-1].Position

	written := tp.addRouteLater("acme", "live", 200*time.Millisecond)
	ids, events := readStream(t, tp, token, map[string]string{"Last-Event-ID": fmt.Sprint(all[0].Position)}, len(all))
	if status := <-written; status != http.StatusCreated {
		t.Fatalf("create route during the stream: status = %d, want 201", status)
	}

	if len(events) != len(all) {
		t.Fatalf("stream events = %d, want %d: the %d after Last-Event-ID and one live change", len(events), len(all), len(all)-1)
	}
	for i, event := range events {
		if ids[i] != fmt.Sprint(event.Position) {
			t.Errorf("event %d: id = %s, want its position %d", i, ids[i], event.Position)
		}
		if i > 0 && event.Position <= events[i-1].Position {
			t.Errorf("event %d: position %d after %d, want increasing positions", i, event.Position, events[i-1].Position)
		}
	}
	if events[0].Position != all[1].Position {
		t.Errorf("first event position = %d, want %d, the first after Last-Event-ID", events[0].Position, all[1].Position)
	}
	if live := events[len(events)-1]; live.Position <= last {
		t.Errorf("last event position = %d, want the live change above %d", live.Position, last)
	}
}

func TestStreamRejectsBadLastEventID(t *testing.T) {
	tp := startPortal(t)
	token := tp.edgeToken()

	resp := tp.send(request{method: "GET", path: "/api/v1/edge/changes/stream", token: &token, header: map[string]string{"Last-Event-ID": "abc"}})
	if resp.status < 400 || resp.status >= 500 {
		t.Errorf("stream with Last-Event-ID abc: status = %d, want a 4xx problem; body %s", resp.status, resp.body)
	}
}

func TestEdgeBundleMinRevision(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	token := tp.edgeToken()
	revision := tp.revision("acme")

	tests := []struct {
		name string
		path string
		want int
	}{
		{"current revision", fmt.Sprintf("/api/v1/edge/tenants/acme/bundle?min_revision=%d", revision), http.StatusOK},
		{"revision not visible yet", fmt.Sprintf("/api/v1/edge/tenants/acme/bundle?min_revision=%d", revision+1), http.StatusServiceUnavailable},
		{"unknown tenant", "/api/v1/edge/tenants/nobody/bundle", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tp.send(request{method: "GET", path: tt.path, token: &token})
			if resp.status != tt.want {
				t.Fatalf("GET %s: status = %d, want %d; body %s", tt.path, resp.status, tt.want, resp.body)
			}
			if tt.want == http.StatusServiceUnavailable && resp.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After, want one")
			}
			if tt.want == http.StatusOK && resp.header.Get("X-Portcullis-Bundle-Hash") == "" {
				t.Error("bundle without X-Portcullis-Bundle-Hash, want one")
			}
		})
	}
}

func TestHeartbeatListsEdge(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	token := tp.edgeToken()
	revision := tp.revision("acme")

	report := map[string]any{"node_id": "eu-1", "region": "eu", "position": 1, "revisions": map[string]int64{"acme": revision}, "healthy": true}
	resp := tp.send(request{method: "POST", path: "/api/v1/edge/heartbeat", body: report, token: &token})
	if resp.status != http.StatusOK {
		t.Fatalf("heartbeat status = %d; body %s", resp.status, resp.body)
	}
	answer := decodeInto[struct {
		Head           int64 `json:"head"`
		NodeIDConflict bool  `json:"node_id_conflict"`
	}](t, resp)
	if answer.Head < 1 || answer.NodeIDConflict {
		t.Errorf("heartbeat answer = %+v, want the feed head and no conflict", answer)
	}

	bad := map[string]any{"node_id": "../x", "region": "eu", "position": -1}
	if resp := tp.send(request{method: "POST", path: "/api/v1/edge/heartbeat", body: bad, token: &token}); resp.status < 400 || resp.status >= 500 {
		t.Errorf("heartbeat with a bad node id: status = %d, want 4xx", resp.status)
	}

	edges := tp.do("GET", "/api/v1/edges", nil, http.StatusOK)
	if !strings.Contains(string(edges.body), `"node_id":"eu-1"`) {
		t.Errorf("GET /api/v1/edges = %s, want node eu-1", edges.body)
	}
	propagation := decodeInto[struct {
		Edges []struct {
			NodeID string `json:"node_id"`
			State  string `json:"state"`
		} `json:"edges"`
	}](t, tp.do("GET", "/api/v1/tenants/acme/propagation", nil, http.StatusOK))
	if len(propagation.Edges) != 1 || propagation.Edges[0].State != "serving" {
		t.Errorf("propagation edges = %+v, want eu-1 serving", propagation.Edges)
	}
}

func TestHeartbeatsOfTwoProcessesShowNodeIDConflict(t *testing.T) {
	tp := startPortal(t)
	token := tp.edgeToken()

	var conflicts []bool
	for _, instance := range []string{"aaaa", "bbbb", "aaaa"} {
		report := map[string]any{"node_id": "twin", "region": "eu", "healthy": true, "instance": instance}
		resp := tp.send(request{method: "POST", path: "/api/v1/edge/heartbeat", body: report, token: &token})
		if resp.status != http.StatusOK {
			t.Fatalf("heartbeat of instance %s: status %d; body %s", instance, resp.status, resp.body)
		}
		conflicts = append(conflicts, decodeInto[struct {
			NodeIDConflict bool `json:"node_id_conflict"`
		}](t, resp).NodeIDConflict)
	}
	if conflicts[0] || conflicts[1] || !conflicts[2] {
		t.Errorf("node_id_conflict of heartbeats aaaa, bbbb, aaaa = %v, want false, false, true", conflicts)
	}

	edges := decodeInto[struct {
		Edges []struct {
			Healthy        bool   `json:"healthy"`
			Detail         string `json:"detail"`
			NodeIDConflict bool   `json:"node_id_conflict"`
		} `json:"edges"`
	}](t, tp.do("GET", "/api/v1/edges", nil, http.StatusOK)).Edges
	if len(edges) != 1 || edges[0].Healthy || !edges[0].NodeIDConflict || !strings.Contains(edges[0].Detail, "--node-id") {
		t.Errorf("GET /api/v1/edges = %+v, want twin not healthy, in conflict, with a detail naming --node-id", edges)
	}

	reserved := map[string]any{"node_id": "all-in-one", "region": "eu"}
	resp := tp.send(request{method: "POST", path: "/api/v1/edge/heartbeat", body: reserved, token: &token})
	if resp.status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.body), "reserved for the edge inside the all-in-one process") {
		t.Errorf("heartbeat as all-in-one: status %d, body %s; want 422 naming the reserved node id", resp.status, resp.body)
	}

	bad := map[string]any{"node_id": "twin", "region": "eu", "instance": "not an id"}
	resp = tp.send(request{method: "POST", path: "/api/v1/edge/heartbeat", body: bad, token: &token})
	if resp.status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.body), "instance") {
		t.Errorf("heartbeat with instance %q: status %d, body %s; want 422 naming instance", "not an id", resp.status, resp.body)
	}
}
