package edge

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

func TestProtocols(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, []config.Route{
		{Name: "all", Paths: []string{"/"}, Upstream: "api"},
	}, nil))
	te := startEdge(t, source, nil)

	_, udpPort, err := net.SplitHostPort(te.addrs.HTTP3)
	if err != nil {
		t.Fatalf("split HTTP/3 address %q: %v", te.addrs.HTTP3, err)
	}
	wantAltSvc := `h3=":` + udpPort + `"; ma=86400`

	tests := []struct {
		protocol   string
		wantProto  string
		wantScheme string
		wantAltSvc string
	}{
		{protocol: "h1", wantProto: "HTTP/1.1", wantScheme: "http", wantAltSvc: wantAltSvc},
		{protocol: "h2c", wantProto: "HTTP/2.0", wantScheme: "http", wantAltSvc: wantAltSvc},
		{protocol: "h2", wantProto: "HTTP/2.0", wantScheme: "https", wantAltSvc: wantAltSvc},
		{protocol: "h3", wantProto: "HTTP/3.0", wantScheme: "https", wantAltSvc: ""},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			got := te.do(t, tt.protocol, "GET", "acme.localhost", "/hello")
			if got.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200 (body %q)", got.StatusCode, got.body)
			}
			if got.Proto != tt.wantProto {
				t.Errorf("Proto = %q, want %q", got.Proto, tt.wantProto)
			}
			if altSvc := got.Header.Get("Alt-Svc"); altSvc != tt.wantAltSvc {
				t.Errorf("Alt-Svc = %q, want %q", altSvc, tt.wantAltSvc)
			}

			seen := got.seen(t)
			if seen.Path != "/hello" {
				t.Errorf("upstream path = %q, want %q", seen.Path, "/hello")
			}
			if proto := seen.Header.Get("X-Forwarded-Proto"); proto != tt.wantScheme {
				t.Errorf("X-Forwarded-Proto = %q, want %q", proto, tt.wantScheme)
			}
		})
	}
}

func TestAltSvcOnProblems(t *testing.T) {
	source := newMemorySource()
	te := startEdge(t, source, nil)

	got := te.do(t, "h1", "GET", "nobody.localhost", "/")
	checkProblem(t, got, http.StatusNotFound)
	if altSvc := got.Header.Get("Alt-Svc"); !strings.HasPrefix(altSvc, `h3=":`) {
		t.Errorf("Alt-Svc = %q, want an h3 entry", altSvc)
	}
}

func TestAltSvcOffWithoutHTTP3(t *testing.T) {
	source := newMemorySource()
	te := startEdge(t, source, func(cfg *Config) {
		cfg.HTTPSAddr = ""
	})

	got := te.do(t, "h1", "GET", "nobody.localhost", "/")
	if altSvc := got.Header.Get("Alt-Svc"); altSvc != "" {
		t.Errorf("Alt-Svc = %q, want none while HTTP/3 is off", altSvc)
	}
	if addrs := te.Addrs(); addrs.HTTPS != "" || addrs.HTTP3 != "" {
		t.Errorf("Addrs = %+v, want empty HTTPS and HTTP3", addrs)
	}
}

func TestStreamingEvents(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	upstream := newStreamingUpstream(t, release)
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream, []config.Route{
		{Name: "events", Paths: []string{"/events"}, Upstream: "api"},
	}, nil))
	te := startEdge(t, source, nil)

	for _, protocol := range []string{"h1", "h2", "h3"} {
		t.Run(protocol, func(t *testing.T) {
			client, base := te.client(t, protocol)
			req, err := http.NewRequest("GET", base+"/events", nil)
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			req.Host = "acme.localhost"
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			defer resp.Body.Close()

			// The first event must arrive while the upstream still holds
			// the stream open.
			lines := make(chan string, 1)
			go func() {
				line, _ := bufio.NewReader(resp.Body).ReadString('\n')
				lines <- line
			}()
			select {
			case line := <-lines:
				if line != "data: first\n" {
					t.Errorf("first line = %q, want %q", line, "data: first\n")
				}
			case <-time.After(3 * time.Second):
				t.Fatal("first event did not arrive within 3s while the stream was open")
			}
		})
	}
}

// newStreamingUpstream starts an upstream that sends one server-sent event
// and keeps the stream open until release is closed.
func newStreamingUpstream(t *testing.T, release chan struct{}) string {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "data: first\n\n")
		http.NewResponseController(w).Flush()

		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(upstream.Close)
	return upstream.URL
}
