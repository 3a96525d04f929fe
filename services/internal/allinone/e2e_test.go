package allinone

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/services/demo"
)

// protocolCase names one client protocol and the edge URL it uses.
type protocolCase struct {
	name      string
	client    *http.Client
	baseURL   func(host string) string
	wantProto string
	wantAlt   bool
}

func (h *harness) protocols() []protocolCase {
	addrs := h.server.Edge().Addrs()
	urlFor := func(scheme, addr string) func(string) string {
		_, port, _ := net.SplitHostPort(addr)
		return func(host string) string { return scheme + "://" + host + ":" + port }
	}
	return []protocolCase{
		{"HTTP/1.1", h.h1, urlFor("http", addrs.HTTP), "HTTP/1.1", true},
		{"HTTP/2 over TLS", h.h2, urlFor("https", addrs.HTTPS), "HTTP/2.0", true},
		{"HTTP/3", h.h3, urlFor("https", addrs.HTTP3), "HTTP/3.0", false},
	}
}

func TestPluginActsOnEveryProtocol(t *testing.T) {
	h := startHarness(t)
	h.addTenant("acme", upstream(t, "acme"), "/")
	h.publish("stamp", "1.0.0")
	h.bind("acme", "stamp", "1.0.0", map[string]any{"greeting": "hi acme"})
	_, udpPort, _ := net.SplitHostPort(h.server.Edge().Addrs().HTTP3)

	for _, pc := range h.protocols() {
		t.Run(pc.name, func(t *testing.T) {
			response, body, err := get(context.Background(), pc.client, pc.baseURL("acme.localhost")+"/orders?id=7", nil)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			if response.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200; body %s", response.StatusCode, body)
			}
			if response.Proto != pc.wantProto {
				t.Errorf("protocol: got %q, want %q", response.Proto, pc.wantProto)
			}

			var echo demo.Echo
			if err := json.Unmarshal(body, &echo); err != nil {
				t.Fatalf("decode upstream echo %q: %v", body, err)
			}
			if echo.Upstream != "acme" || echo.Path != "/orders" || echo.Query != "id=7" {
				t.Errorf("upstream saw %s %s?%s, want acme /orders?id=7", echo.Upstream, echo.Path, echo.Query)
			}
			if got := echo.Headers["X-Greeting"]; got != "hi acme" {
				t.Errorf("rewrite phase: upstream got X-Greeting %q, want %q", got, "hi acme")
			}
			if got := response.Header.Get("X-Stamp"); got != "1.0.0" {
				t.Errorf("header_filter phase: got X-Stamp %q, want 1.0.0", got)
			}

			altSvc := response.Header.Get("Alt-Svc")
			wantAlt := fmt.Sprintf(`h3=":%s"`, udpPort)
			if pc.wantAlt && !strings.Contains(altSvc, wantAlt) {
				t.Errorf("Alt-Svc: got %q, want it to contain %s", altSvc, wantAlt)
			}
		})
	}
}

func TestPluginExitEndsRequest(t *testing.T) {
	h := startHarness(t)
	h.addTenant("acme", upstream(t, "acme"), "/")
	h.publish("stamp", "1.0.0")
	h.bind("acme", "stamp", "1.0.0", map[string]any{"greeting": "hi"})

	for _, pc := range h.protocols() {
		t.Run(pc.name, func(t *testing.T) {
			response, body, err := get(context.Background(), pc.client, pc.baseURL("acme.localhost")+"/", http.Header{"X-Deny": {"yes"}})
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			if response.StatusCode != http.StatusForbidden {
				t.Errorf("status: got %d, want 403", response.StatusCode)
			}
			if string(body) != "denied by stamp\n" {
				t.Errorf("body: got %q, want the plugin's exit body", body)
			}
		})
	}
}

func TestTenantHostIsolation(t *testing.T) {
	h := startHarness(t)
	h.addTenant("acme", upstream(t, "acme"), "/")
	h.addTenant("globex", upstream(t, "globex"), "/globex")

	tests := []struct {
		desc         string
		host         string
		path         string
		wantStatus   int
		wantUpstream string
		// plainOnly skips TLS clients, which reject a host that the
		// development certificate does not cover before any request.
		plainOnly bool
	}{
		{"acme serves its own prefix", "acme.localhost", "/globex/x", http.StatusOK, "acme", false},
		{"globex serves its own prefix", "globex.localhost", "/globex/x", http.StatusOK, "globex", false},
		{"globex never falls through to acme", "globex.localhost", "/orders", http.StatusNotFound, "", false},
		{"unknown tenant", "initech.localhost", "/", http.StatusNotFound, "", false},
		{"bare base domain", "localhost", "/", http.StatusNotFound, "", false},
		{"host of another domain", "acme.example.com", "/", http.StatusNotFound, "", true},
	}
	for _, pc := range h.protocols() {
		for _, tt := range tests {
			if tt.plainOnly && pc.name != "HTTP/1.1" {
				continue
			}
			t.Run(pc.name+"/"+tt.desc, func(t *testing.T) {
				response, body, err := get(context.Background(), pc.client, pc.baseURL(tt.host)+tt.path, nil)
				if err != nil {
					t.Fatalf("request: %v", err)
				}
				if response.StatusCode != tt.wantStatus {
					t.Fatalf("status: got %d, want %d; body %s", response.StatusCode, tt.wantStatus, body)
				}
				if tt.wantUpstream == "" {
					if strings.Contains(string(body), `"upstream"`) {
						t.Errorf("a request for %s reached an upstream: %s", tt.host, body)
					}
					return
				}
				var echo demo.Echo
				if err := json.Unmarshal(body, &echo); err != nil {
					t.Fatalf("decode upstream echo %q: %v", body, err)
				}
				if echo.Upstream != tt.wantUpstream {
					t.Errorf("upstream: got %q, want %q", echo.Upstream, tt.wantUpstream)
				}
			})
		}
	}
}
