package edge

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

var allRoute = []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}

// closedAddress returns the URL of a port on 127.0.0.1 that nothing
// listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := listener.Addr().String()
	listener.Close()
	return "http://" + addr
}

// slowUpstream starts an upstream that responds after delay, or returns
// when the request is canceled.
func slowUpstream(t *testing.T, delay time.Duration) string {
	t.Helper()
	server := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
			_, _ = io.WriteString(w, "late")
		case <-r.Context().Done():
		}
	}))
	return server
}

func TestUpstreamFailures(t *testing.T) {
	tests := []struct {
		name       string
		target     func(t *testing.T) string
		wantStatus int
	}{
		{name: "unreachable", target: closedAddress, wantStatus: http.StatusBadGateway},
		{name: "timeout", target: func(t *testing.T) string { return slowUpstream(t, 5*time.Second) }, wantStatus: http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := newMemorySource(tenantBundle(t, "acme", 1, tt.target(t), allRoute, nil))
			te := startEdge(t, source, func(cfg *Config) {
				cfg.UpstreamTimeout = 200 * time.Millisecond
			})

			for _, protocol := range []string{"h1", "h3"} {
				got := te.do(t, protocol, "GET", "acme.localhost", "/x")
				details := checkProblem(t, got, tt.wantStatus)
				if strings.Contains(details.Detail, "127.0.0.1") {
					t.Errorf("%s: problem detail %q reveals the upstream address", protocol, details.Detail)
				}
			}
		})
	}
}

func TestClientGoneIsLogged(t *testing.T) {
	source := newMemorySource(tenantBundle(t, "acme", 1, slowUpstream(t, 5*time.Second), allRoute, nil))
	te := startEdge(t, source, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+te.addrs.HTTP+"/x", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	if resp, err := te.h1.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("request succeeded, want the client to give up")
	}

	deadline := time.Now().Add(2 * time.Second)
	for {
		records := te.logs.records(t, "client closed the request")
		if len(records) == 1 {
			if status := records[0]["status"]; status != float64(499) {
				t.Errorf("logged status = %v, want 499", status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("client closed log records = %d after 2s, want 1", len(records))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAdminEndpoints(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, allRoute, nil))
	te := startEdge(t, source, nil)

	te.do(t, "h1", "GET", "acme.localhost", "/x")
	te.do(t, "h3", "GET", "acme.localhost", "/x")
	te.do(t, "h1", "GET", "nobody.localhost", "/x")

	tests := []struct {
		path       string
		wantStatus int
		wantBody   []string
	}{
		{path: "/healthz", wantStatus: 200, wantBody: []string{"ok"}},
		{path: "/readyz", wantStatus: 200, wantBody: []string{"ready"}},
		{path: "/metrics", wantStatus: 200, wantBody: []string{
			`portcullis_edge_requests_total{code="2xx",protocol="http/1.1",route="all",tenant="acme"} 1`,
			`portcullis_edge_requests_total{code="2xx",protocol="h3",route="all",tenant="acme"} 1`,
			`portcullis_edge_requests_total{code="4xx",protocol="http/1.1",route="_none",tenant="_none"} 1`,
			`portcullis_edge_request_duration_seconds_count{code="2xx",protocol="http/1.1",route="all",tenant="acme"} 1`,
			`portcullis_edge_upstream_duration_seconds_count{code="2xx",route="all",tenant="acme"} 2`,
			`portcullis_edge_tenant_loads_total{kind="load",result="ok"} 1`,
			`portcullis_edge_tenant_loads_total{kind="load",result="not_found"} 1`,
			`portcullis_edge_l1_hits_total 1`,
			`portcullis_edge_l1_misses_total 2`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := te.h1.Get("http://" + te.addrs.Admin + tt.path)
			if err != nil {
				t.Fatalf("GET %s: %v", tt.path, err)
			}
			defer resp.Body.Close()
			body := string(readAll(t, resp))

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
		})
	}
}

func TestShutdownDrains(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	target := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "finished")
	}))
	source := newMemorySource(tenantBundle(t, "acme", 1, target, allRoute, nil))
	te := startEdge(t, source, nil)

	// Start one request over TCP and one over HTTP/3 and hold them in the
	// upstream.
	type result struct {
		protocol string
		status   int
		body     string
		err      error
	}
	results := make(chan result, 2)
	for _, protocol := range []string{"h1", "h3"} {
		client, base := te.client(t, protocol)
		go func() {
			req, _ := http.NewRequest("GET", base+"/slow", nil)
			req.Host = "acme.localhost"
			resp, err := client.Do(req)
			if err != nil {
				results <- result{protocol: protocol, err: err}
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			results <- result{protocol: protocol, status: resp.StatusCode, body: string(body), err: err}
		}()
	}
	<-started
	<-started

	shutdownDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdownDone <- te.Shutdown(ctx)
	}()

	// While draining, readiness fails and new connections are refused.
	waitFor(t, "readyz 503 during drain", func() bool {
		resp, err := te.h1.Get("http://" + te.addrs.Admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	waitFor(t, "HTTP listener closed", func() bool {
		conn, err := net.Dial("tcp", te.addrs.HTTP)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})

	close(release)
	for range 2 {
		got := <-results
		if got.err != nil || got.status != http.StatusOK || got.body != "finished" {
			t.Errorf("%s in-flight request: status %d, body %q, error %v; want 200 finished", got.protocol, got.status, got.body, got.err)
		}
	}
	if err := <-shutdownDone; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	source := newMemorySource(tenantBundle(t, "acme", 1, slowUpstream(t, 10*time.Second), allRoute, nil))
	te := startEdge(t, source, nil)

	go func() {
		req, _ := http.NewRequest("GET", "http://"+te.addrs.HTTP+"/stuck", nil)
		req.Host = "acme.localhost"
		if resp, err := te.h1.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, "request in flight", func() bool { return te.openConnections() > 0 })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := te.Shutdown(ctx)
	if err == nil {
		t.Error("Shutdown returned nil, want the deadline error")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Shutdown took %v, want about the 200ms deadline", elapsed)
	}

	records := te.logs.records(t, "drain deadline passed; closing the connections still open")
	if len(records) != 1 {
		t.Fatalf("deadline log records = %d, want 1", len(records))
	}
	if open := records[0]["open_connections"]; open != float64(1) {
		t.Errorf("logged open_connections = %v, want 1", open)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	tlsConfig, _ := testTLS(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "no source", cfg: Config{HTTPAddr: "127.0.0.1:0"}},
		{name: "https without tls", cfg: Config{Source: newMemorySource(), HTTPSAddr: "127.0.0.1:0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New returned no error")
			}
		})
	}

	e, err := New(Config{Source: newMemorySource(), HTTPSAddr: "127.0.0.1:0", TLSConfig: tlsConfig})
	if err != nil {
		t.Fatalf("New with TLS: %v", err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown before Start: %v", err)
	}
	if err := e.Start(); err == nil {
		t.Error("Start after Shutdown returned no error")
	}
}

func TestStartBindFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer taken.Close()

	tlsConfig, _ := testTLS(t)
	e, err := New(Config{Source: newMemorySource(), HTTPSAddr: "127.0.0.1:0", AdminAddr: taken.Addr().String(), TLSConfig: tlsConfig})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer e.Shutdown(context.Background())

	if err := e.Start(); err == nil {
		t.Fatal("Start returned no error for a taken admin address")
	}
}

// waitFor polls condition every 10ms for at most 2s.
func waitFor(t *testing.T, what string, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within 2s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
