package proxy

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"portcullis.dev/edge/balancer"
)

// upstream starts a server that names itself in X-Upstream, echoes the
// X-Forwarded-For it got and sets the edge-owned X-Owned header.
func upstream(t *testing.T, name string) *url.URL {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", name)
		w.Header().Set("X-Owned", "from upstream")
		w.Header().Set("X-Seen-Forwarded-For", r.Header.Get("X-Forwarded-For"))
		w.Header().Set("X-Seen-Request-Id", r.Header.Get("X-Request-Id"))
		w.Header().Set("X-Seen-Path", r.URL.Path)
		_, _ = io.WriteString(w, "hello from "+name)
	}))
	t.Cleanup(server.Close)

	target, err := url.Parse(server.URL)
	if err != nil {
		t.Fatalf("parse %q: %v", server.URL, err)
	}
	return target
}

func newBalancer(t *testing.T, targets ...*url.URL) *balancer.Balancer {
	t.Helper()
	var weighted []balancer.Target
	for _, target := range targets {
		weighted = append(weighted, balancer.Target{URL: target})
	}
	b, err := balancer.New(weighted, balancer.Options{})
	if err != nil {
		t.Fatalf("balancer.New: %v", err)
	}
	return b.WithUpstream(balancer.Upstream{Tenant: "acme", Name: "api"})
}

// serve sends one request for path through a proxy to b.
func serve(t *testing.T, b *balancer.Balancer, path string, onResponse func(*http.Response) error) (*httptest.ResponseRecorder, *Call, error) {
	t.Helper()
	upstreams := NewUpstreams(UpstreamsOptions{})
	t.Cleanup(upstreams.Close)
	proxy := New(upstreams, []string{"X-Owned"}, nil, slog.New(slog.DiscardHandler))

	var proxyErr error
	call := &Call{
		Balancer:   b,
		RequestID:  "req-1",
		OnResponse: onResponse,
		OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			proxyErr = err
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	req := httptest.NewRequest("GET", "http://acme.localhost"+path, nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	recorder := httptest.NewRecorder()

	proxy.ServeHTTP(recorder, req.WithContext(WithCall(req.Context(), call)))
	return recorder, call, proxyErr
}

func TestProxyForwards(t *testing.T) {
	target := upstream(t, "one")
	recorder, call, err := serve(t, newBalancer(t, target), "/x", nil)
	if err != nil {
		t.Fatalf("proxy error: %v", err)
	}

	checks := []struct {
		name string
		got  string
		want string
	}{
		{name: "body", got: recorder.Body.String(), want: "hello from one"},
		{name: "forwarded for", got: recorder.Header().Get("X-Seen-Forwarded-For"), want: "192.0.2.1"},
		{name: "request id", got: recorder.Header().Get("X-Seen-Request-Id"), want: "req-1"},
		{name: "path", got: recorder.Header().Get("X-Seen-Path"), want: "/x"},
		{name: "owned header", got: recorder.Header().Get("X-Owned"), want: ""},
		{name: "target", got: call.Target.String(), want: target.String()},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("%s = %q, want %q", check.name, check.got, check.want)
		}
	}
	if call.Status != http.StatusOK {
		t.Errorf("call status = %d, want 200", call.Status)
	}
}

func TestProxyBalances(t *testing.T) {
	b := newBalancer(t, upstream(t, "one"), upstream(t, "two"))

	counts := map[string]int{}
	for range 4 {
		recorder, _, err := serve(t, b, "/", nil)
		if err != nil {
			t.Fatalf("proxy error: %v", err)
		}
		counts[recorder.Header().Get("X-Upstream")]++
	}
	if counts["one"] != 2 || counts["two"] != 2 {
		t.Errorf("requests per upstream = %v, want 2 each", counts)
	}
}

func TestProxyOnResponseError(t *testing.T) {
	filterErr := errors.New("filter failed")
	recorder, call, err := serve(t, newBalancer(t, upstream(t, "one")), "/", func(*http.Response) error {
		return filterErr
	})

	if !errors.Is(err, filterErr) {
		t.Errorf("OnError got %v, want the OnResponse error", err)
	}
	if recorder.Code != http.StatusBadGateway {
		t.Errorf("status = %d, want the 502 OnError wrote", recorder.Code)
	}
	if call.Status != 0 {
		t.Errorf("call status = %d, want 0 after a failed OnResponse", call.Status)
	}
}

func TestProxyUnreachable(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	closed := &url.URL{Scheme: "http", Host: listener.Addr().String()}
	listener.Close()

	_, _, proxyErr := serve(t, newBalancer(t, closed), "/", nil)
	var opErr *net.OpError
	if !errors.As(proxyErr, &opErr) {
		t.Errorf("OnError got %v, want a *net.OpError", proxyErr)
	}
}
