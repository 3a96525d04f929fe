package proxy

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/tenants/config"
)

// backend is a real upstream server on 127.0.0.1 that counts its requests
// and names itself in the body.
type backend struct {
	name   string
	server *httptest.Server
	hits   atomic.Int64
}

func (b *backend) URL() string { return b.server.URL }

// newBackend starts a backend that counts each request, then runs handler.
// A nil handler responds 200 with the backend's name and protocol.
func newBackend(t *testing.T, name string, handler http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{name: name}
	b.server = httptest.NewServer(b.wrap(handler))
	t.Cleanup(b.server.Close)
	return b
}

func (b *backend) wrap(handler http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if handler != nil {
			handler(w, r)
			return
		}
		_, _ = io.WriteString(w, b.name+" "+r.Proto)
	}
}

// closedURL returns an http:// URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := listener.Addr().String()
	listener.Close()
	return "http://" + addr
}

// build compiles an upstream config as the runtime does.
func build(t *testing.T, upstream config.Upstream) *balancer.Balancer {
	t.Helper()
	if upstream.Name == "" {
		upstream.Name = "api"
	}
	b, err := balancer.Build("acme", &upstream)
	if err != nil {
		t.Fatalf("balancer.Build: %v", err)
	}
	return b
}

func targets(urls ...string) []config.Target {
	out := make([]config.Target, 0, len(urls))
	for _, target := range urls {
		out = append(out, config.Target{URL: target})
	}
	return out
}

func newUpstreams(t *testing.T, opts UpstreamsOptions) *Upstreams {
	t.Helper()
	u := NewUpstreams(opts)
	t.Cleanup(u.Close)
	return u
}

// result is what one proxied request produced.
type result struct {
	status int
	body   string
	call   *Call
	err    error
}

// send proxies one request through u to b. A failed request gets status
// 502 from OnError and its error in result.err.
func send(t *testing.T, u *Upstreams, b *balancer.Balancer, method, body string, header http.Header) result {
	t.Helper()
	proxy := New(u, nil, nil, slog.New(slog.DiscardHandler))

	var out result
	out.call = &Call{
		Balancer:  b,
		RequestID: "req-1",
		OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			out.err = err
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://acme.localhost/x", reader)
	req.RemoteAddr = "192.0.2.10:5000"
	for name, values := range header {
		req.Header[name] = values
	}
	recorder := httptest.NewRecorder()
	proxy.ServeHTTP(recorder, req.WithContext(WithCall(req.Context(), out.call)))

	out.status, out.body = recorder.Code, recorder.Body.String()
	return out
}

// sendWithLength proxies a POST whose body has the given Content-Length,
// -1 for unknown (chunked).
func sendWithLength(t *testing.T, u *Upstreams, b *balancer.Balancer, body string, length int64) result {
	t.Helper()
	proxy := New(u, nil, nil, slog.New(slog.DiscardHandler))

	var out result
	out.call = &Call{Balancer: b, OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
		out.err = err
		w.WriteHeader(http.StatusBadGateway)
	}}
	req := httptest.NewRequest(http.MethodPost, "http://acme.localhost/x", io.NopCloser(strings.NewReader(body)))
	req.ContentLength = length
	recorder := httptest.NewRecorder()
	proxy.ServeHTTP(recorder, req.WithContext(WithCall(req.Context(), out.call)))

	out.status, out.body = recorder.Code, recorder.Body.String()
	return out
}
