package edge

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/tenants/config"
)

const (
	// upperSource upper-cases each chunk and appends "!" at the end.
	upperSource = `func body_filter(ctx, conf) {
  tail := ""
  if ctx.resp.eof { tail = "!" }
  ctx.resp.set_chunk(ctx.resp.chunk.to_upper() + tail)
}
`
	// tagSource appends its config's tag at the end of the body.
	tagSource = `func body_filter(ctx, conf) {
  if ctx.resp.eof { ctx.resp.set_chunk(ctx.resp.chunk + conf["tag"]) }
}
`
	// sseSource marks each server-sent event that passes through it.
	sseSource = `func body_filter(ctx, conf) {
  ctx.resp.set_chunk(ctx.resp.chunk.replace_all("data: ", "data: seen-"))
}
`
	// wholeSource requests the whole body and replaces it with a summary.
	wholeSource = `func header_filter(ctx, conf) {
  ctx.resp.buffer_body()
}

func body_filter(ctx, conf) {
  ctx.resp.set_chunk("calls=1 bytes=" + string(len(ctx.resp.chunk)) + " eof=" + string(ctx.resp.eof))
}
`
	// boomSource fails on a chunk that contains "boom".
	boomSource = `func body_filter(ctx, conf) {
  if ctx.resp.chunk.contains("boom") { error("bad chunk") }
}
`
)

// bodyUpstream serves the paths that the body filter tests read:
//
//   - /pieces and /whole: "alpha beta" in two flushed writes, with
//     Content-Length 10.
//   - /big-closed and /big-open: pluginhost.MaxBufferedBody+1 bytes of "x".
//   - /boom: "ok " then, after a flush, "boom".
//   - /events: one server-sent event, then a wait for the release channel
//     of the request's ?id before a second event.
type bodyUpstream struct {
	mu       sync.Mutex
	releases map[string]chan struct{}
	// finished records, per id, that /events returned.
	finished sync.Map
}

func (u *bodyUpstream) release(id string) chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.releases[id] == nil {
		u.releases[id] = make(chan struct{})
	}
	return u.releases[id]
}

func (u *bodyUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	flusher := w.(http.Flusher)
	switch r.URL.Path {
	case "/pieces", "/whole":
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "alpha ")
		flusher.Flush()
		_, _ = io.WriteString(w, "beta")
	case "/big-closed", "/big-open":
		_, _ = io.WriteString(w, strings.Repeat("x", pluginhost.MaxBufferedBody+1))
	case "/boom":
		_, _ = io.WriteString(w, "ok ")
		flusher.Flush()
		_, _ = io.WriteString(w, "boom")
	case "/events":
		id := r.URL.Query().Get("id")
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		flusher.Flush()
		select {
		case <-u.release(id):
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, "data: two\n\n")
		u.finished.Store(id, true)
	default:
		http.NotFound(w, r)
	}
}

// bodyFilterEdge starts an edge for tenant acme whose routes each bind body
// filter plugins, over an upstream of type bodyUpstream.
func bodyFilterEdge(t *testing.T) (*testEdge, *bodyUpstream) {
	t.Helper()
	upstream := &bodyUpstream{releases: map[string]chan struct{}{}}
	target := newHTTPServer(t, upstream)

	high, low := 10, 5
	routes := []config.Route{
		{Name: "upper", Paths: []string{"/pieces"}, Upstream: "api"},
		{Name: "events", Paths: []string{"/events"}, Upstream: "api"},
		{Name: "whole", Paths: []string{"/whole"}, Upstream: "api"},
		{Name: "big-closed", Paths: []string{"/big-closed"}, Upstream: "api"},
		{Name: "big-open", Paths: []string{"/big-open"}, Upstream: "api"},
		{Name: "boom", Paths: []string{"/boom"}, Upstream: "api"},
	}
	bindings := []config.Binding{
		// Created first with the lower priority, so the order shows that
		// priority wins over creation order.
		{ID: "b-tag-b", Plugin: "tag", Version: "1.0.0", Route: "upper", Priority: &low, Config: []byte(`{"tag":"B"}`)},
		{ID: "b-tag-a", Plugin: "tag", Version: "1.0.0", Route: "upper", Priority: &high, Config: []byte(`{"tag":"A"}`)},
		{ID: "b-upper", Plugin: "upper", Version: "1.0.0", Route: "upper", Priority: &high},
		{ID: "b-sse", Plugin: "sse", Version: "1.0.0", Route: "events"},
		{ID: "b-whole", Plugin: "whole", Version: "1.0.0", Route: "whole"},
		{ID: "b-whole-closed", Plugin: "whole", Version: "1.0.0", Route: "big-closed"},
		{ID: "b-whole-open", Plugin: "whole", Version: "1.0.0", Route: "big-open", OnError: config.OnErrorOpen},
		{ID: "b-boom", Plugin: "boom", Version: "1.0.0", Route: "boom"},
	}
	source := newMemorySource(tenantBundle(t, "acme", 1, target, routes, bindings,
		plugin("upper", "1.0.0", upperSource),
		plugin("tag", "1.0.0", tagSource),
		plugin("sse", "1.0.0", sseSource),
		plugin("whole", "1.0.0", wholeSource),
		plugin("boom", "1.0.0", boomSource),
	))
	return startEdge(t, source, nil), upstream
}

var allProtocols = []string{"h1", "h2c", "h2", "h3"}

func TestBodyFilterStreamsChunks(t *testing.T) {
	te, _ := bodyFilterEdge(t)

	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			got := te.do(t, protocol, "GET", "acme.localhost", "/pieces")

			if got.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200 (body %q)", got.StatusCode, got.body)
			}
			// Tag A and upper (priority 10) run in creation order, then
			// tag B (priority 5), so upper reads A's tag and B's comes last.
			if want := "ALPHA BETAA!B"; string(got.body) != want {
				t.Errorf("body = %q, want %q", got.body, want)
			}
			if length := got.Header.Get("Content-Length"); length != "" || got.ContentLength != -1 {
				t.Errorf("Content-Length = %q (%d), want none because plugins may change the body", length, got.ContentLength)
			}
		})
	}
}

func TestBodyFilterServerSentEvents(t *testing.T) {
	te, upstream := bodyFilterEdge(t)

	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			client, base := te.client(t, protocol)
			req, err := http.NewRequest("GET", base+"/events?id="+protocol, nil)
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			req.Host = "acme.localhost"
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET /events over %s: %v", protocol, err)
			}
			defer resp.Body.Close()

			reader := bufio.NewReader(resp.Body)
			first := readEvent(t, reader)
			if _, done := upstream.finished.Load(protocol); done {
				t.Fatal("first event arrived only after the upstream finished, want it streamed")
			}
			if want := "data: seen-one\n\n"; first != want {
				t.Errorf("first event = %q, want %q", first, want)
			}

			close(upstream.release(protocol))
			if second, want := readEvent(t, reader), "data: seen-two\n\n"; second != want {
				t.Errorf("second event = %q, want %q", second, want)
			}
		})
	}
}

// readEvent reads one server-sent event, up to and including its blank line.
func readEvent(t *testing.T, reader *bufio.Reader) string {
	t.Helper()
	var event strings.Builder
	for {
		line, err := reader.ReadString('\n')
		event.WriteString(line)
		if err != nil {
			t.Fatalf("read event: %v (read %q)", err, event.String())
		}
		if line == "\n" {
			return event.String()
		}
	}
}

func TestBodyFilterBufferBody(t *testing.T) {
	te, _ := bodyFilterEdge(t)
	wantBody := "calls=1 bytes=10 eof=true"

	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			got := te.do(t, protocol, "GET", "acme.localhost", "/whole")

			if got.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200 (body %q)", got.StatusCode, got.body)
			}
			if string(got.body) != wantBody {
				t.Errorf("body = %q, want %q", got.body, wantBody)
			}
			if got.ContentLength != int64(len(wantBody)) {
				t.Errorf("ContentLength = %d, want %d for the buffered body", got.ContentLength, len(wantBody))
			}
		})
	}
}

func TestBodyFilterBufferLimit(t *testing.T) {
	te, _ := bodyFilterEdge(t)

	t.Run("closed", func(t *testing.T) {
		got := te.do(t, "h1", "GET", "acme.localhost", "/big-closed")
		checkProblem(t, got, http.StatusInternalServerError)
	})
	t.Run("open", func(t *testing.T) {
		got := te.do(t, "h1", "GET", "acme.localhost", "/big-open")

		if got.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", got.StatusCode)
		}
		// The plugin is skipped, so the body passes unchanged.
		if len(got.body) != pluginhost.MaxBufferedBody+1 {
			t.Errorf("body length = %d, want %d", len(got.body), pluginhost.MaxBufferedBody+1)
		}
		if strings.Trim(string(got.body), "x") != "" {
			t.Error("body changed, want the upstream's bytes")
		}
	})
}

func TestBodyFilterFailureAbortsStream(t *testing.T) {
	te, _ := bodyFilterEdge(t)

	// NOTE: HTTP/3 is left out. The edge resets an HTTP/3 stream whose body
	// failed (abortOnCopyError), but after such a reset the edge's graceful
	// shutdown often waits until its deadline (seen with quic-go v0.65.0),
	// which fails the test helper's 5 s shutdown.
	for _, protocol := range []string{"h1", "h2c", "h2"} {
		t.Run(protocol, func(t *testing.T) {
			client, base := te.client(t, protocol)
			req, err := http.NewRequest("GET", base+"/boom", nil)
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			req.Host = "acme.localhost"
			// The upstream's two writes may reach the edge in one read,
			// and then the hook fails before the headers went out, so the
			// request itself may fail. Either way no body may look whole.
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()

			body, err := io.ReadAll(resp.Body)
			if err == nil {
				t.Errorf("read body = %q with no error, want a broken stream after the failed hook", body)
			}
		})
	}
}
