package edge

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"golang.org/x/net/http2"
)

func TestShutdownAfterAbortedHTTP3Body(t *testing.T) {
	te, _ := bodyFilterEdge(t)

	// The body filter on /boom fails after the upstream's first write, so
	// the edge resets the HTTP/3 stream. After such a reset the server side
	// of the connection can stay open (seen with quic-go v0.65.0), and
	// quic-go's graceful shutdown waits for the client to close it.
	client, base := te.client(t, "h3")
	for range 3 {
		req, err := http.NewRequest("GET", base+"/boom", nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		req.Host = "acme.localhost"
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	// The client goes away first, as the test helper's cleanup does.
	if err := client.Transport.(*http3.Transport).Close(); err != nil {
		t.Fatalf("close HTTP/3 client: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	start := time.Now()
	if err := te.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2500*time.Millisecond {
		t.Errorf("Shutdown took %v with no request in flight, want about the 1s HTTP/3 idle close", elapsed)
	}
}

// heldUpstream starts an upstream that reports each request on started
// and responds "finished" once release is closed.
func heldUpstream(t *testing.T, started chan<- string, release <-chan struct{}) string {
	t.Helper()
	return newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- r.URL.Path
		select {
		case <-release:
			_, _ = io.WriteString(w, "finished")
		case <-r.Context().Done():
		}
	}))
}

// drainResult is the outcome of one request held during a drain.
type drainResult struct {
	protocol string
	status   int
	body     string
	err      error
}

func roundTripResult(protocol string, rt http.RoundTripper, req *http.Request) drainResult {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return drainResult{protocol: protocol, err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return drainResult{protocol: protocol, status: resp.StatusCode, body: string(body), err: err}
}

func TestShutdownDrainsEveryProtocol(t *testing.T) {
	started := make(chan string, 8)
	release := make(chan struct{})
	source := newMemorySource(tenantBundle(t, "acme", 1, heldUpstream(t, started, release), allRoute, nil))
	te := startEdge(t, source, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// One connection per protocol, each with a request held upstream. The
	// HTTP/2 and HTTP/3 connections are opened by hand so the test can see
	// the GOAWAY frame on them.
	h2Conn := dialH2(t, te)
	h3Conn := dialH3(ctx, t, te)
	results := make(chan drainResult, 3)
	go func() {
		results <- roundTripResult("h1", te.h1.Transport, heldRequest(ctx, t, "http://"+te.addrs.HTTP+"/h1"))
	}()
	go func() { results <- roundTripResult("h2", h2Conn, heldRequest(ctx, t, "https://"+te.addrs.HTTPS+"/h2")) }()
	go func() { results <- roundTripResult("h3", h3Conn, heldRequest(ctx, t, "https://"+te.addrs.HTTP3+"/h3")) }()
	for range 3 {
		<-started
	}

	shutdownDone := make(chan error, 1)
	go func() {
		grace, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdownDone <- te.Shutdown(grace)
	}()

	waitFor(t, "GOAWAY on the HTTP/2 connection", func() bool { return !h2Conn.CanTakeNewRequest() })
	waitFor(t, "GOAWAY on the HTTP/3 connection", func() bool {
		_, err := h3Conn.RoundTrip(heldRequest(ctx, t, "https://"+te.addrs.HTTP3+"/late"))
		return err != nil && strings.Contains(err.Error(), "graceful shutdown")
	})
	for _, addr := range []string{te.addrs.HTTP, te.addrs.HTTPS} {
		waitFor(t, "TCP listener "+addr+" closed", func() bool {
			conn, err := net.Dial("tcp", addr)
			if err == nil {
				conn.Close()
			}
			return err != nil
		})
	}
	dialCtx, dialCancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer dialCancel()
	if conn, err := quic.DialAddr(dialCtx, te.addrs.HTTP3, h3ClientTLS(te), nil); err == nil {
		conn.CloseWithError(0, "")
		t.Error("a new QUIC connection was accepted during the drain")
	}

	close(release)
	for range 3 {
		got := <-results
		if got.err != nil || got.status != http.StatusOK || got.body != "finished" {
			t.Errorf("%s request held during the drain: status %d, body %q, error %v; want 200 finished", got.protocol, got.status, got.body, got.err)
		}
	}
	if err := <-shutdownDone; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	select {
	case path := <-started:
		t.Errorf("request %s reached the upstream after the drain began", path)
	default:
	}
}

func heldRequest(ctx context.Context, t *testing.T, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	return req
}

func h3ClientTLS(te *testEdge) *tls.Config {
	return &tls.Config{RootCAs: te.pool, ServerName: "localhost", NextProtos: []string{http3.NextProtoH3}}
}

// dialH2 opens an HTTP/2 connection to the edge's TLS listener.
func dialH2(t *testing.T, te *testEdge) *http2.ClientConn {
	t.Helper()
	tlsConn, err := tls.Dial("tcp", te.addrs.HTTPS, &tls.Config{RootCAs: te.pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("dial TLS: %v", err)
	}
	conn, err := (&http2.Transport{}).NewClientConn(tlsConn)
	if err != nil {
		t.Fatalf("start HTTP/2: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// dialH3 opens an HTTP/3 connection to the edge.
func dialH3(ctx context.Context, t *testing.T, te *testEdge) *http3.ClientConn {
	t.Helper()
	conn, err := quic.DialAddr(ctx, te.addrs.HTTP3, h3ClientTLS(te), nil)
	if err != nil {
		t.Fatalf("dial QUIC: %v", err)
	}
	t.Cleanup(func() { _ = conn.CloseWithError(0, "") })
	return (&http3.Transport{}).NewClientConn(conn)
}

func TestDrainDelayKeepsServing(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, allRoute, nil))
	te := startEdge(t, source, func(cfg *Config) {
		cfg.DrainDelay = 500 * time.Millisecond
	})

	start := time.Now()
	shutdownDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdownDone <- te.Shutdown(ctx)
	}()

	waitFor(t, "readyz 503 during the delay", func() bool {
		resp, err := te.h1.Get("http://" + te.addrs.Admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	// A new connection is still served while the delay runs.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: time.Second}
	req, err := http.NewRequest("GET", "http://"+te.addrs.HTTP+"/x", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request during the drain delay: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status during the drain delay = %d, want 200", resp.StatusCode)
	}

	if err := <-shutdownDone; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 500*time.Millisecond {
		t.Errorf("Shutdown returned after %v, want at least the 500ms delay", elapsed)
	}
}
