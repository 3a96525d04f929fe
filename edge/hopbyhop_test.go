package edge

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func TestConnectionNamedHeadersRequest(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, nil)

	tests := []struct {
		name       string
		connection string
	}{
		{name: "with close", connection: "close, X-Name"},
		{name: "with keep-alive", connection: "keep-alive, X-Name"},
		{name: "alone", connection: "X-Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := dialRaw(t, te.addrs.HTTP)
			request := "GET /h HTTP/1.1\r\nHost: acme.localhost\r\nConnection: " + tt.connection + "\r\nX-Name: hop\r\nX-Other: end\r\n\r\n"
			if _, err := io.WriteString(conn, request); err != nil {
				t.Fatalf("write request: %v", err)
			}
			resp, body := readRawResponse(t, bufio.NewReader(conn))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}

			var seen upstreamSeen
			if err := json.Unmarshal([]byte(body), &seen); err != nil {
				t.Fatalf("decode upstream report %q: %v", body, err)
			}
			if got := seen.Header.Get("X-Name"); got != "" {
				t.Errorf("upstream X-Name = %q, want it removed as named in Connection", got)
			}
			if got := seen.Header.Get("X-Other"); got != "end" {
				t.Errorf("upstream X-Other = %q, want %q", got, "end")
			}
		})
	}
}

func TestConnectionNamedHeadersResponse(t *testing.T) {
	upstream := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", r.URL.Query().Get("connection"))
		w.Header().Set("X-Name", "hop")
		w.Header().Set("X-Other", "end")
		_, _ = io.WriteString(w, "ok")
	}))
	te := startLimitsEdge(t, upstream, nil)

	for _, connection := range []string{"close, X-Name", "X-Name, close", "X-Name"} {
		for _, protocol := range []string{"h1", "h2", "h3"} {
			t.Run(protocol+" "+connection, func(t *testing.T) {
				got := te.do(t, protocol, "GET", "acme.localhost", "/h?connection="+url.QueryEscape(connection))
				if got.StatusCode != http.StatusOK || string(got.body) != "ok" {
					t.Fatalf("response = %d %q, want 200 ok", got.StatusCode, got.body)
				}
				if value := got.Header.Get("X-Name"); value != "" {
					t.Errorf("X-Name = %q, want it removed as named in the upstream's Connection", value)
				}
				if value := got.Header.Get("X-Other"); value != "end" {
					t.Errorf("X-Other = %q, want %q", value, "end")
				}
			})
		}
	}
}

// httpsUpstreamBundle returns a bundle for tenant acme whose one route
// reaches server, an httptest TLS server, with protocol and the server's
// certificate as CA.
func httpsUpstreamBundle(t *testing.T, server *httptest.Server, protocol string) *bundle.Bundle {
	t.Helper()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	b := &bundle.Bundle{
		Tenant:   "acme",
		Revision: 1,
		Upstreams: []config.Upstream{{
			Name:     "api",
			Protocol: protocol,
			Targets:  []config.Target{{URL: server.URL}},
			TLS:      &config.UpstreamTLS{CAPEM: string(caPEM)},
		}},
		Routes:  []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}},
		Plugins: map[string]bundle.PluginCode{},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return b
}

func TestConnectionNamedHeadersResponseHTTPS(t *testing.T) {
	// httptest's TLS server offers only http/1.1 in ALPN unless
	// EnableHTTP2 is set, so every upstream connection is HTTP/1.1 over TLS.
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close, X-Secret-Hop")
		w.Header().Set("X-Secret-Hop", "1")
		w.Header().Set("X-Other", "end")
		_, _ = io.WriteString(w, r.Proto+" "+r.TLS.NegotiatedProtocol)
	}))
	t.Cleanup(upstream.Close)

	for _, upstreamProtocol := range []string{config.ProtocolAuto, config.ProtocolHTTP1} {
		te := startEdge(t, newMemorySource(httpsUpstreamBundle(t, upstream, upstreamProtocol)), nil)
		for _, protocol := range []string{"h1", "h2", "h3"} {
			t.Run(upstreamProtocol+" upstream "+protocol, func(t *testing.T) {
				// Two requests, so the second runs on a fresh connection
				// after the upstream closed the first one.
				for range 2 {
					got := te.do(t, protocol, "GET", "acme.localhost", "/h")
					if got.StatusCode != http.StatusOK || !strings.HasPrefix(string(got.body), "HTTP/1.1") {
						t.Fatalf("response = %d %q, want 200 from HTTP/1.1", got.StatusCode, got.body)
					}
					if value := got.Header.Get("X-Secret-Hop"); value != "" {
						t.Errorf("X-Secret-Hop = %q, want it removed as named in the upstream's Connection", value)
					}
					if value := got.Header.Get("X-Other"); value != "end" {
						t.Errorf("X-Other = %q, want %q", value, "end")
					}
				}
			})
		}
	}
}
