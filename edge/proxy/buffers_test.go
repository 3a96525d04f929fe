package proxy

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestCopyBuffersSize(t *testing.T) {
	buffers := newCopyBuffers()

	buf := buffers.Get()
	if len(buf) != copyBufferSize {
		t.Fatalf("Get() returned %d bytes, want %d", len(buf), copyBufferSize)
	}
	buffers.Put(buf)

	// A buffer of another size must never come back from Get.
	buffers.Put(make([]byte, 100))
	for range 4 {
		if got := len(buffers.Get()); got != copyBufferSize {
			t.Fatalf("Get() after a Put of 100 bytes returned %d bytes, want %d", got, copyBufferSize)
		}
	}
}

// TestProxyReusesCopyBuffers sends bodies of several buffers each through
// one proxy in turn, so later responses are copied with buffers that
// earlier ones used, and checks that each body arrives intact.
func TestProxyReusesCopyBuffers(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(patternBody(r.URL.Query().Get("fill")))
	}))
	t.Cleanup(server.Close)
	target, err := url.Parse(server.URL)
	if err != nil {
		t.Fatalf("parse %q: %v", server.URL, err)
	}

	upstreams := NewUpstreams(UpstreamsOptions{})
	t.Cleanup(upstreams.Close)
	proxy := New(upstreams, nil, nil, slog.New(slog.DiscardHandler))
	b := newBalancer(t, target)

	for _, fill := range []string{"a", "b", "c", "d"} {
		call := &Call{Balancer: b, RequestID: "req-" + fill, OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			t.Errorf("proxy error: %v", err)
			w.WriteHeader(http.StatusBadGateway)
		}}
		req := httptest.NewRequest("GET", "http://acme.localhost/?fill="+fill, nil)
		recorder := httptest.NewRecorder()
		proxy.ServeHTTP(recorder, req.WithContext(WithCall(req.Context(), call)))

		body, _ := io.ReadAll(recorder.Body)
		if !bytes.Equal(body, patternBody(fill)) {
			t.Fatalf("body for fill %q: %d bytes differ from the %d sent", fill, len(body), len(patternBody(fill)))
		}
	}
}

// patternBody returns 5.5 copy buffers of bytes that start with fill and
// count up, so a stale or shared buffer shows in the copy.
func patternBody(fill string) []byte {
	body := make([]byte, copyBufferSize*11/2)
	for i := range body {
		body[i] = fill[0] + byte(i%7)
	}
	return body
}

func BenchmarkCopyBuffers(b *testing.B) {
	buffers := newCopyBuffers()
	b.ReportAllocs()
	for b.Loop() {
		buffers.Put(buffers.Get())
	}
}
