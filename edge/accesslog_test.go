package edge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// waitForAccessLines returns the access log lines once there are want of
// them, failing after 5 s: the edge writes a line after the response went
// out.
func waitForAccessLines(t *testing.T, logs *syncBuffer, want int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := logs.records(t, "access")
		if len(lines) >= want {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("access log has %d lines after 5 s, want %d: %q", len(lines), want, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestAccessLogLine(t *testing.T) {
	upstream, _ := echoUpstream(t, "acme")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, []config.Route{{Name: "orders", Paths: []string{"/orders"}, Upstream: "api"}}, nil))
	accessLog := &syncBuffer{}
	te := startEdge(t, source, func(cfg *Config) { cfg.AccessLog = accessLog })

	const requestBody = `{"item":"book"}`
	req, err := http.NewRequest(http.MethodPost, "http://"+te.addrs.HTTP+"/orders/7?api_key=query-secret-1&page=2", strings.NewReader(requestBody))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	req.Header.Set("Authorization", "Bearer header-secret-2")
	req.Header.Set("X-Api-Key", "header-secret-3")
	resp, err := te.h1.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	body := readAll(t, resp)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", resp.StatusCode, body)
	}

	line := waitForAccessLines(t, accessLog, 1)[0]
	target, _ := url.Parse(upstream.URL)
	wantStrings := map[string]string{
		"request_id":    resp.Header.Get("X-Request-Id"),
		"tenant":        "acme",
		"route":         "orders",
		"consumer":      "",
		"method":        "POST",
		"host":          "acme.localhost",
		"path":          "/orders/7",
		"protocol":      "http/1.1",
		"client_addr":   "127.0.0.1",
		"upstream_addr": target.Host,
		"trace_id":      "",
	}
	for key, want := range wantStrings {
		if got, ok := line[key].(string); !ok || got != want {
			t.Errorf("access log %s = %v, want %q", key, line[key], want)
		}
	}
	wantNumbers := map[string]float64{
		"status":    200,
		"bytes_in":  float64(len(requestBody)),
		"bytes_out": float64(len(body)),
	}
	for key, want := range wantNumbers {
		if got, ok := line[key].(float64); !ok || got != want {
			t.Errorf("access log %s = %v, want %v", key, line[key], want)
		}
	}
	duration, _ := line["duration_ms"].(float64)
	upstreamDuration, _ := line["upstream_duration_ms"].(float64)
	if upstreamDuration <= 0 || duration < upstreamDuration {
		t.Errorf("duration_ms = %v, upstream_duration_ms = %v, want 0 < upstream <= total", line["duration_ms"], line["upstream_duration_ms"])
	}

	raw := accessLog.String()
	for _, secret := range []string{"query-secret-1", "header-secret-2", "header-secret-3", "api_key", "page=2"} {
		if strings.Contains(raw, secret) {
			t.Errorf("access log contains %q: %s", secret, raw)
		}
	}
}

func TestAccessLogNoTenant(t *testing.T) {
	accessLog := &syncBuffer{}
	te := startEdge(t, newMemorySource(), func(cfg *Config) { cfg.AccessLog = accessLog })

	got := te.do(t, "h2c", http.MethodGet, "nobody.localhost", "/x?secret=1")
	checkProblem(t, got, http.StatusNotFound)

	line := waitForAccessLines(t, accessLog, 1)[0]
	if line["status"] != float64(404) || line["route"] != "" || line["upstream_addr"] != "" || line["protocol"] != "h2" {
		t.Errorf("access log line = %v, want status 404, protocol h2, no route and no upstream", line)
	}
	if line["bytes_out"] != float64(len(got.body)) {
		t.Errorf("bytes_out = %v, want the problem document's %d bytes", line["bytes_out"], len(got.body))
	}
}

func TestAccessLogOffByDefault(t *testing.T) {
	upstream, _ := echoUpstream(t, "acme")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, allRoute, nil))
	te := startEdge(t, source, nil)

	te.do(t, "h1", http.MethodGet, "acme.localhost", "/x")

	if lines := te.logs.records(t, "access"); len(lines) != 0 {
		t.Errorf("edge log has %d access lines with the access log off, want 0", len(lines))
	}
}

// TestAccessLogClientGone checks that a client that goes away is logged
// with 499, both while the edge waits for the upstream's header and while
// it copies the body.
func TestAccessLogClientGone(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	upstream := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("first part"))
			http.NewResponseController(w).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream, allRoute, nil))
	accessLog := &syncBuffer{}
	te := startEdge(t, source, func(cfg *Config) { cfg.AccessLog = accessLog })

	for i, path := range []string{"/header", "/body"} {
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+te.addrs.HTTP+path, nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		req.Host = "acme.localhost"
		go func() {
			time.Sleep(200 * time.Millisecond)
			cancel()
		}()
		resp, err := te.h1.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("GET %s: error %v, want context.Canceled", path, err)
		}

		line := waitForAccessLines(t, accessLog, i+1)[i]
		if line["path"] != path || line["status"] != float64(499) {
			t.Errorf("GET %s: access log path %v status %v, want %s and 499", path, line["path"], line["status"], path)
		}
	}
}

// TestAccessLogLineIsJSON checks the line format: one JSON
// object per line, with slog's time and level.
func TestAccessLogLineIsJSON(t *testing.T) {
	upstream, _ := echoUpstream(t, "acme")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, allRoute, nil))
	accessLog := &syncBuffer{}
	te := startEdge(t, source, func(cfg *Config) { cfg.AccessLog = accessLog })

	te.do(t, "h3", http.MethodGet, "acme.localhost", "/a")
	te.do(t, "h2", http.MethodGet, "acme.localhost", "/b")
	waitForAccessLines(t, accessLog, 2)

	lines := strings.Split(strings.TrimSpace(accessLog.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("access log has %d lines, want 2: %q", len(lines), accessLog.String())
	}
	for _, line := range lines {
		var record map[string]any
		if err := json.Unmarshal([]byte(line), &record); err != nil {
			t.Errorf("line %q is not JSON: %v", line, err)
		}
		if record["level"] != "INFO" || record["time"] == nil {
			t.Errorf("line %q lacks level INFO and time", line)
		}
	}
}

func TestAccessLogConsumer(t *testing.T) {
	upstream, _ := echoUpstream(t, "acme")
	identify := `func rewrite(ctx, conf) {
	if ctx.req.header("X-Consumer") == "alice" {
		ctx.consumer.set("alice")
	}
}
`
	b := tenantBundle(t, "acme", 1, upstream.URL, allRoute,
		[]config.Binding{{ID: "b-identify", Plugin: "identify", Version: "1.0.0", Config: []byte(`{}`)}},
		plugin("identify", "1.0.0", identify))
	b.Consumers = []bundle.Consumer{{Name: "alice"}}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	accessLog := &syncBuffer{}
	te := startEdge(t, newMemorySource(b), func(cfg *Config) { cfg.AccessLog = accessLog })

	for i, consumer := range []string{"alice", ""} {
		req, err := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+"/x", nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		req.Host = "acme.localhost"
		req.Header.Set("X-Consumer", consumer)
		resp, err := te.h1.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		readAll(t, resp)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}

		line := waitForAccessLines(t, accessLog, i+1)[i]
		if line["consumer"] != consumer {
			t.Errorf("X-Consumer %q: access log consumer = %v, want %q", consumer, line["consumer"], consumer)
		}
	}
}
