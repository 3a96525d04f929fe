package allinone

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"portcullis.dev/services/demo"
	"portcullis.dev/services/internal/apiclient"
	"portcullis.dev/services/internal/datadir"
)

const testToken = "e2e-operator-token-0123456789"

// harness is one all-in-one server on free loopback ports, with clients for
// each protocol that dial the edge whatever the Host.
type harness struct {
	t      *testing.T
	server *Server
	api    *apiclient.Client
	h1     *http.Client
	h2     *http.Client
	h3     *http.Client
}

func startHarness(t *testing.T) *harness {
	t.Helper()
	return startHarnessWith(t, testConfig(t.TempDir()))
}

// testConfig returns an all-in-one config on free loopback ports.
func testConfig(dataDir string) Config {
	return Config{
		Role:       "all",
		PortalAddr: "127.0.0.1:0",
		HTTPAddr:   "127.0.0.1:0",
		HTTPSAddr:  "127.0.0.1:0",
		AdminAddr:  "127.0.0.1:0",
		DataDir:    dataDir,
		BaseDomain: "localhost",
		AdminToken: testToken,
		DemoAddr:   "127.0.0.1:0",
	}
}

func startHarnessWith(t *testing.T, cfg Config) *harness {
	t.Helper()
	dataDir := cfg.DataDir

	server, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start all-in-one server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := server.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	roots := devCertPool(t, dataDir)
	h := &harness{
		t:      t,
		server: server,
		api:    &apiclient.Client{BaseURL: server.PortalURL(), Token: testToken},
		h1:     &http.Client{Transport: h1Transport(server.Edge().Addrs().HTTP), Timeout: 10 * time.Second},
		h2:     &http.Client{Transport: h2Transport(server.Edge().Addrs().HTTPS, roots), Timeout: 10 * time.Second},
		h3:     &http.Client{Transport: h3Transport(server.Edge().Addrs().HTTP3, roots), Timeout: 10 * time.Second},
	}
	t.Cleanup(h.closeClients)
	return h
}

func (h *harness) closeClients() {
	h.h1.CloseIdleConnections()
	h.h2.CloseIdleConnections()
	if closer, ok := h.h3.Transport.(io.Closer); ok {
		closer.Close()
	}
}

func devCertPool(t *testing.T, dataDir string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(dataDir + "/" + datadir.DevCertFile)
	if err != nil {
		t.Fatalf("read development certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("development certificate is not valid PEM")
	}
	return pool
}

// dialTo returns a dialer that connects to addr whatever host a URL names,
// so tests can use tenant hosts such as acme.localhost.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	var dialer net.Dialer
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr)
	}
}

func h1Transport(addr string) *http.Transport {
	return &http.Transport{DialContext: dialTo(addr), ForceAttemptHTTP2: false}
}

func h2Transport(addr string, roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		DialContext:       dialTo(addr),
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}
}

func h3Transport(addr string, roots *x509.CertPool) *http3.Transport {
	return &http3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		Dial: func(ctx context.Context, _ string, tlsConf *tls.Config, quicConf *quic.Config) (*quic.Conn, error) {
			return quic.DialAddrEarly(ctx, addr, tlsConf, quicConf)
		},
	}
}

// upstream starts a real echo server on a loopback socket.
func upstream(t *testing.T, name string) string {
	t.Helper()
	server := httptest.NewServer(demo.Upstream(name))
	t.Cleanup(server.Close)
	return server.URL
}

// mustAPI sends one portal API call and fails the test on an error.
func (h *harness) mustAPI(method, path string, body, out any) {
	h.t.Helper()
	if err := h.api.Do(context.Background(), method, path, body, out); err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
}

// addTenant creates a tenant with one upstream and one route through the API.
func (h *harness) addTenant(slug, upstreamURL string, paths ...string) {
	h.t.Helper()
	base := "/api/v1/tenants/" + slug
	h.mustAPI(http.MethodPost, "/api/v1/tenants", map[string]any{"slug": slug, "name": slug}, nil)
	h.mustAPI(http.MethodPost, base+"/upstreams", map[string]any{
		"name": "backend", "targets": []map[string]any{{"url": upstreamURL, "weight": 1}},
	}, nil)
	h.mustAPI(http.MethodPost, base+"/routes", map[string]any{
		"name": "main", "paths": paths, "methods": []string{"GET", "POST"}, "upstream": "backend",
	}, nil)
}

// publish publishes a plugin version that stamps requests and responses with
// its version and the configured greeting.
func (h *harness) publish(name, version string) {
	h.t.Helper()
	source := fmt.Sprintf(`func rewrite(ctx, conf) {
    ctx.req.set_header("X-Plugin-Version", %q)
    ctx.req.set_header("X-Greeting", conf["greeting"])
}

func access(ctx, conf) {
    if ctx.req.header("X-Deny") != "" {
        ctx.exit(403, "denied by %s\n")
    }
}

func header_filter(ctx, conf) {
    ctx.resp.set_header("X-Stamp", %q)
}
`, version, name, version)
	h.mustAPI(http.MethodPost, "/api/v1/plugins", map[string]any{
		"name": name, "version": version, "source": source,
		"config_schema": json.RawMessage(`{"type":"object","properties":{"greeting":{"type":"string"}}}`),
	}, nil)
}

// bind binds a plugin version to every route of a tenant and returns the
// binding id. The binding gets the longest hook deadline, because these
// tests check routing and swaps, and a race-detector build on two busy cores
// can pause a hook past the default 50 ms.
func (h *harness) bind(slug, plugin, version string, config map[string]any) string {
	h.t.Helper()
	var created struct {
		ID string `json:"id"`
	}
	h.mustAPI(http.MethodPost, "/api/v1/tenants/"+slug+"/bindings", map[string]any{
		"plugin": plugin, "version": version, "config": config, "timeout_ms": 1000,
	}, &created)
	if created.ID == "" {
		h.t.Fatal("binding created without an id")
	}
	return created.ID
}

// get sends a request through client to the tenant host and returns the
// response with its body read.
func get(ctx context.Context, client *http.Client, url string, header http.Header) (*http.Response, []byte, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for name, values := range header {
		request.Header[name] = values
	}
	response, err := client.Do(request)
	if err != nil {
		return nil, nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	return response, body, err
}
