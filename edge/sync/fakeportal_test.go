package sync

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

const testToken = "pce_test-edge-token"

// fakePortal serves the edge sync API from memory on 127.0.0.1.
type fakePortal struct {
	server *httptest.Server

	mu      gosync.Mutex
	events  []Event
	bundles map[string]*bundle.Bundle
	// down makes every endpoint return 503.
	down bool
	// noStream makes the stream endpoint return 404, as a proxy might.
	noStream bool
	// replayNext makes the next stream send every event, ignoring after.
	replayNext bool
	// streamAfters records the start position of each stream or poll.
	streamAfters []int64
	reports      []Report
	bundleCalls  int
	// conflict makes the heartbeat response report another process with
	// the same node id.
	conflict bool
	// domains is the domain index that GET /domains returns.
	domains     map[string]string
	domainCalls int
}

func startFakePortal(t *testing.T) *fakePortal {
	t.Helper()
	p := &fakePortal{bundles: map[string]*bundle.Bundle{}}
	p.server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.server.Close)
	return p
}

func (p *fakePortal) client(t *testing.T) *Client {
	t.Helper()
	client, err := NewClient(p.server.URL, testToken)
	if err != nil {
		t.Fatalf("NewClient() error = %v", err)
	}
	return client
}

func (p *fakePortal) addEvent(position int64, tenant string, revision int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, Event{Position: position, Tenant: tenant, Revision: revision, Kind: "route.created", Time: time.Now()})
}

func (p *fakePortal) set(change func(p *fakePortal)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	change(p)
}

func (p *fakePortal) afters() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int64(nil), p.streamAfters...)
}

// eventsAfter returns the events above after, and all of them when a
// replay is due.
func (p *fakePortal) eventsAfter(after int64) []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streamAfters = append(p.streamAfters, after)

	var out []Event
	for _, event := range p.events {
		if event.Position > after || p.replayNext {
			out = append(out, event)
		}
	}
	p.replayNext = false
	return out
}

func (p *fakePortal) head() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.events) == 0 {
		return 0
	}
	return p.events[len(p.events)-1].Position
}

func (p *fakePortal) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, "invalid edge token", http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	down, noStream := p.down, p.noStream
	p.mu.Unlock()
	if down {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}

	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	path := strings.TrimPrefix(r.URL.Path, "/api/v1/edge")
	switch {
	case path == "/heartbeat":
		p.heartbeat(w, r)
	case path == "/changes/stream" && !noStream:
		p.stream(w, after)
	case path == "/changes":
		p.poll(w, after)
	case path == "/domains":
		p.domainIndex(w)
	case strings.HasPrefix(path, "/tenants/") && strings.HasSuffix(path, "/bundle"):
		p.bundle(w, strings.TrimSuffix(strings.TrimPrefix(path, "/tenants/"), "/bundle"))
	default:
		http.NotFound(w, r)
	}
}

func (p *fakePortal) heartbeat(w http.ResponseWriter, r *http.Request) {
	var report Report
	if err := json.NewDecoder(r.Body).Decode(&report); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.reports = append(p.reports, report)
	conflict := p.conflict
	p.mu.Unlock()
	fmt.Fprintf(w, `{"head":%d,"node_id_conflict":%t}`, p.head(), conflict)
}

// stream sends the events after the position, then holds the stream open
// for a moment and ends it, as the portal does at the stream's lifetime.
func (p *fakePortal) stream(w http.ResponseWriter, after int64) {
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, ": open\n\n")
	for _, event := range p.eventsAfter(after) {
		data, _ := json.Marshal(event)
		fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", event.Position, data)
	}
	w.(http.Flusher).Flush()
	time.Sleep(50 * time.Millisecond)
}

func (p *fakePortal) poll(w http.ResponseWriter, after int64) {
	events := p.eventsAfter(after)
	if len(events) == 0 {
		time.Sleep(50 * time.Millisecond)
	}
	json.NewEncoder(w).Encode(map[string]any{"events": events})
}

func (p *fakePortal) bundle(w http.ResponseWriter, tenant string) {
	p.mu.Lock()
	b := p.bundles[tenant]
	p.bundleCalls++
	p.mu.Unlock()
	if b == nil {
		http.Error(w, "tenant not found", http.StatusNotFound)
		return
	}
	json.NewEncoder(w).Encode(b)
}

func sealed(t *testing.T, tenant string, revision int64) *bundle.Bundle {
	t.Helper()
	b := &bundle.Bundle{
		Tenant:    tenant,
		Revision:  revision,
		Upstreams: []config.Upstream{{Name: "backend", Targets: []config.Target{{URL: "http://127.0.0.1:9", Weight: 1}}}},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return b
}

// waitFor polls cond every 5 ms until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s did not happen within %s", what, timeout)
}

// reportsSnapshot returns the heartbeat reports received so far.
func (p *fakePortal) reportsSnapshot() []Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Report(nil), p.reports...)
}
