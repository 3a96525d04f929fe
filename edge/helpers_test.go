package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"portcullis.dev/edge/problem"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/testcert"
)

// memorySource is an in-memory bundle.Source whose bundles tests replace.
type memorySource struct {
	mu      sync.Mutex
	bundles map[string]*bundle.Bundle
}

func newMemorySource(bundles ...*bundle.Bundle) *memorySource {
	source := &memorySource{bundles: map[string]*bundle.Bundle{}}
	for _, b := range bundles {
		source.bundles[b.Tenant] = b
	}
	return source
}

func (s *memorySource) Bundle(_ context.Context, tenant string) (*bundle.Bundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	b, ok := s.bundles[tenant]
	if !ok {
		return nil, fmt.Errorf("tenant %q: %w", tenant, bundle.ErrTenantNotFound)
	}
	return b, nil
}

func (s *memorySource) put(b *bundle.Bundle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bundles[b.Tenant] = b
}

// plugin returns the bundle entry of a plugin version.
func plugin(name, version, source string) bundle.PluginCode {
	return bundle.PluginCode{Name: name, Version: version, Source: source, SHA256: bundle.SourceHash(source)}
}

// helloSource is a rewrite and header_filter plugin that marks the request
// and the response with its version.
func helloSource(version string) string {
	return `func rewrite(ctx, conf) {
	ctx.req.set_header("X-Hello", conf["greeting"])
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Served-By", "hello-` + version + `")
}
`
}

// tenantBundle builds a sealed bundle with one upstream "api" at target and
// the given routes, bindings and plugins.
func tenantBundle(t *testing.T, tenant string, revision int64, target string, routes []config.Route, bindings []config.Binding, plugins ...bundle.PluginCode) *bundle.Bundle {
	t.Helper()
	b := &bundle.Bundle{
		Tenant:    tenant,
		Revision:  revision,
		Upstreams: []config.Upstream{{Name: "api", Targets: []config.Target{{URL: target}}}},
		Routes:    routes,
		Bindings:  bindings,
		Plugins:   map[string]bundle.PluginCode{},
	}
	for _, code := range plugins {
		b.Plugins[bundle.Key(code.Name, code.Version)] = code
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return b
}

// upstreamSeen is what the echo upstream reports about a request.
type upstreamSeen struct {
	Upstream string      `json:"upstream"`
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Query    string      `json:"query"`
	Host     string      `json:"host"`
	Header   http.Header `json:"header"`
}

// echoUpstream starts an upstream that responds with upstreamSeen as JSON
// and counts its requests.
func echoUpstream(t *testing.T, name string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "upstream-id")
		_ = json.NewEncoder(w).Encode(upstreamSeen{
			Upstream: name, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host, Header: r.Header,
		})
	}))
	t.Cleanup(server.Close)
	return server, &hits
}

// testTLS returns a server config with a fresh self-signed certificate for
// 127.0.0.1 and localhost names, and a pool that trusts it.
func testTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()

	cert := testcert.Issue(t, []string{"localhost", "*.localhost"}, testcert.Options{
		CommonName:  "portcullis edge test",
		NotAfter:    time.Now().Add(time.Hour),
		IsCA:        true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	})
	return &tls.Config{Certificates: []tls.Certificate{cert.TLSCertificate()}}, cert.Pool()
}

// testEdge is a started Edge with clients for each protocol.
type testEdge struct {
	*Edge
	logs  *syncBuffer
	pool  *x509.CertPool
	h1    *http.Client
	h2c   *http.Client
	h2    *http.Client
	h3    *http.Client
	addrs Addrs
}

// startEdge starts an Edge on 127.0.0.1 with every listener enabled and
// shuts it down when the test ends. change may adjust the config first.
func startEdge(t *testing.T, source bundle.Source, change func(*Config)) *testEdge {
	t.Helper()
	serverTLS, pool := testTLS(t)
	logs := &syncBuffer{}
	cfg := Config{
		Source:    source,
		HTTPAddr:  "127.0.0.1:0",
		HTTPSAddr: "127.0.0.1:0",
		AdminAddr: "127.0.0.1:0",
		TLSConfig: serverTLS,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if change != nil {
		change(&cfg)
	}

	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}

	te := &testEdge{Edge: e, logs: logs, pool: pool, addrs: e.Addrs()}
	te.h1 = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	h2cProtocols := new(http.Protocols)
	h2cProtocols.SetUnencryptedHTTP2(true)
	te.h2c = &http.Client{Transport: &http.Transport{Proxy: nil, Protocols: h2cProtocols}, Timeout: 10 * time.Second}
	te.h2 = &http.Client{Transport: &http.Transport{Proxy: nil, ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	h3Transport := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	te.h3 = &http.Client{Transport: h3Transport, Timeout: 10 * time.Second}

	t.Cleanup(func() {
		te.h1.CloseIdleConnections()
		te.h2c.CloseIdleConnections()
		te.h2.CloseIdleConnections()
		_ = h3Transport.Close()

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return te
}

// client returns the client and base URL of a protocol: "h1", "h2c", "h2"
// or "h3".
func (te *testEdge) client(t *testing.T, protocol string) (*http.Client, string) {
	t.Helper()
	switch protocol {
	case "h1":
		return te.h1, "http://" + te.addrs.HTTP
	case "h2c":
		return te.h2c, "http://" + te.addrs.HTTP
	case "h2":
		return te.h2, "https://" + te.addrs.HTTPS
	case "h3":
		return te.h3, "https://" + te.addrs.HTTP3
	}
	t.Fatalf("unknown protocol %q", protocol)
	return nil, ""
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	body []byte
}

// do sends a request for host over protocol and reads the whole response.
func (te *testEdge) do(t *testing.T, protocol, method, host, path string) response {
	t.Helper()
	client, base := te.client(t, protocol)
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = host

	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s over %s: %v", method, host, path, protocol, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{Response: resp, body: body}
}

// seen decodes the echo upstream's report from a response.
func (r response) seen(t *testing.T) upstreamSeen {
	t.Helper()
	var seen upstreamSeen
	if err := json.Unmarshal(r.body, &seen); err != nil {
		t.Fatalf("decode upstream report %q: %v", r.body, err)
	}
	return seen
}

// checkProblem checks that r is a problem document with status want whose
// request id matches the X-Request-Id header.
func checkProblem(t *testing.T, r response, want int) problem.Details {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("status = %d, want %d (body %q)", r.StatusCode, want, r.body)
	}
	if got := r.Header.Get("Content-Type"); got != problem.ContentType {
		t.Errorf("Content-Type = %q, want %q", got, problem.ContentType)
	}

	var details problem.Details
	if err := json.Unmarshal(r.body, &details); err != nil {
		t.Fatalf("decode problem %q: %v", r.body, err)
	}
	if details.Status != want {
		t.Errorf("problem status = %d, want %d", details.Status, want)
	}
	if id := r.Header.Get("X-Request-Id"); details.RequestID == "" || details.RequestID != id {
		t.Errorf("problem request_id = %q, want the X-Request-Id header %q", details.RequestID, id)
	}
	return details
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records with the given message.
func (b *syncBuffer) records(t *testing.T, message string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()

	var found []map[string]any
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var record map[string]any
		if err := json.Unmarshal(line, &record); err != nil {
			t.Fatalf("decode log line %q: %v", line, err)
		}
		if record["msg"] == message {
			found = append(found, record)
		}
	}
	return found
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return body
}

// newHTTPServer starts an httptest server with handler and returns its URL.
func newHTTPServer(t *testing.T, handler http.Handler) string {
	t.Helper()
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	return server.URL
}

// remove deletes tenant's bundle, as the portal does when the tenant is
// deleted.
func (s *memorySource) remove(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bundles, tenant)
}
