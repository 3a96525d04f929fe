package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"portcullis.dev/tenants/config"
)

// wsUpstream is a WebSocket upstream. On each connection it sends
// "welcome", then echoes text messages, closes with 4001 "done" after the
// message "close-me", and reports the close it receives and the handshake
// headers it saw.
type wsUpstream struct {
	url     string
	hits    atomic.Int64
	headers chan http.Header
	closes  chan websocket.CloseError
}

func newWSUpstream(t *testing.T) *wsUpstream {
	t.Helper()
	up := &wsUpstream{headers: make(chan http.Header, 16), closes: make(chan websocket.CloseError, 16)}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.hits.Add(1)
		up.headers <- r.Header.Clone()
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"chat"}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		conn.SetReadLimit(1 << 20)
		up.serve(r.Context(), conn)
	}))
	t.Cleanup(server.Close)
	up.url = server.URL
	return up
}

func (up *wsUpstream) serve(ctx context.Context, conn *websocket.Conn) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte("welcome")); err != nil {
		return
	}
	for {
		kind, data, err := conn.Read(ctx)
		if err != nil {
			var closeErr websocket.CloseError
			if errors.As(err, &closeErr) {
				up.closes <- closeErr
			}
			return
		}
		if string(data) == "close-me" {
			_ = conn.Close(4001, "done")
			return
		}
		if err := conn.Write(ctx, kind, data); err != nil {
			return
		}
	}
}

// wsEdge starts an edge with tenant acme: route "ws" at /ws to the
// WebSocket upstream and route "denied" at /denied, whose deny plugin exits
// with 403 in the request phase.
func wsEdge(t *testing.T, up *wsUpstream, change func(*Config)) *testEdge {
	t.Helper()
	routes := []config.Route{
		{Name: "ws", Paths: []string{"/ws"}, Upstream: "api"},
		{Name: "denied", Paths: []string{"/denied"}, Upstream: "api"},
	}
	bindings := []config.Binding{{ID: "b-deny", Plugin: "deny", Version: "1.0.0", Route: "denied"}}
	source := newMemorySource(tenantBundle(t, "acme", 1, up.url, routes, bindings, plugin("deny", "1.0.0", denySource)))
	return startEdge(t, source, change)
}

// dialWS opens a WebSocket to the edge for tenant acme over HTTP/1.1, in
// plain text ("ws") or over TLS ("wss").
func (te *testEdge) dialWS(ctx context.Context, scheme, path string) (*websocket.Conn, *http.Response, error) {
	addr := te.addrs.HTTP
	transport := &http.Transport{Proxy: nil}
	if scheme == "wss" {
		addr = te.addrs.HTTPS
		transport.TLSClientConfig = &tls.Config{RootCAs: te.pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}}
	}
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return websocket.Dial(ctx, scheme+"://acme.localhost"+path, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: transport},
		Subprotocols: []string{"chat"},
	})
}

func TestWebSocketEcho(t *testing.T) {
	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)

	for _, scheme := range []string{"ws", "wss"} {
		t.Run(scheme, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, resp, err := te.dialWS(ctx, scheme, "/ws")
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.CloseNow()
			conn.SetReadLimit(1 << 20)

			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("handshake status = %d, want 101", resp.StatusCode)
			}
			if got := conn.Subprotocol(); got != "chat" {
				t.Errorf("subprotocol = %q, want %q", got, "chat")
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("handshake response lacks X-Request-Id")
			}
			seen := <-up.headers
			if got := seen.Get("Upgrade"); got != "websocket" {
				t.Errorf("upstream Upgrade = %q, want websocket", got)
			}
			if got := seen.Get("Connection"); !strings.EqualFold(got, "upgrade") {
				t.Errorf("upstream Connection = %q, want Upgrade", got)
			}

			expectMessage(ctx, t, conn, "welcome")
			for _, text := range []string{"one", strings.Repeat("x", 100<<10)} {
				if err := conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
					t.Fatalf("write: %v", err)
				}
				expectMessage(ctx, t, conn, text)
			}

			if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
				t.Errorf("close: %v", err)
			}
			select {
			case got := <-up.closes:
				if got.Code != websocket.StatusNormalClosure || got.Reason != "bye" {
					t.Errorf("upstream saw close %d %q, want 1000 %q", got.Code, got.Reason, "bye")
				}
			case <-ctx.Done():
				t.Fatal("upstream saw no close frame")
			}
		})
	}
}

func TestWebSocketUpstreamClose(t *testing.T) {
	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := te.dialWS(ctx, "ws", "/ws")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	expectMessage(ctx, t, conn, "welcome")

	if err := conn.Write(ctx, websocket.MessageText, []byte("close-me")); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, _, err = conn.Read(ctx)
	if status := websocket.CloseStatus(err); status != 4001 {
		t.Errorf("read error = %v, want the upstream's close 4001", err)
	}
}

func TestWebSocketPluginRejects(t *testing.T) {
	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := te.dialWS(ctx, "ws", "/denied")
	if err == nil {
		conn.CloseNow()
		t.Fatal("handshake succeeded, want the plugin's 403")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("handshake response = %v, want 403", resp)
	}
	if hits := up.hits.Load(); hits != 0 {
		t.Errorf("upstream handshakes = %d, want 0", hits)
	}
}

func TestWebSocketIdleTimeout(t *testing.T) {
	up := newWSUpstream(t)
	te := wsEdge(t, up, func(cfg *Config) {
		cfg.WebSocketIdleTimeout = 300 * time.Millisecond
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := te.dialWS(ctx, "ws", "/ws")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	expectMessage(ctx, t, conn, "welcome")

	// Traffic within the timeout keeps the tunnel open.
	for range 3 {
		time.Sleep(150 * time.Millisecond)
		if err := conn.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
			t.Fatalf("write while active: %v", err)
		}
		expectMessage(ctx, t, conn, "ping")
	}

	start := time.Now()
	_, _, err = conn.Read(ctx)
	if err == nil {
		t.Fatal("read returned a message, want the tunnel closed for idleness")
	}
	if ctx.Err() != nil {
		t.Fatalf("tunnel still open after %v: %v", time.Since(start), err)
	}
}

func TestUpgradeOtherThanWebSocketDropped(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, nil)

	client, base := te.client(t, "h1")
	req, err := http.NewRequest("GET", base+"/", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "h2c")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()

	got := response{Response: resp, body: readAll(t, resp)}
	if got.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", got.StatusCode)
	}
	seen := got.seen(t)
	for _, name := range []string{"Upgrade", "Connection"} {
		if value := seen.Header.Get(name); value != "" {
			t.Errorf("upstream %s = %q, want none for an upgrade to h2c", name, value)
		}
	}
}

func expectMessage(ctx context.Context, t *testing.T, conn *websocket.Conn, want string) {
	t.Helper()
	kind, data, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if kind != websocket.MessageText || string(data) != want {
		t.Fatalf("message = (%v, %d bytes %.20q), want text %.20q", kind, len(data), data, want)
	}
}
