package allinone

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// greetingWebSocket starts a WebSocket upstream that sends the request's
// X-Greeting header as its first message and then echoes text messages.
func greetingWebSocket(t *testing.T) string {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()

		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := conn.Write(ctx, websocket.MessageText, []byte(r.Header.Get("X-Greeting"))); err != nil {
			return
		}
		for {
			kind, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			if err := conn.Write(ctx, kind, data); err != nil {
				return
			}
		}
	}))
	t.Cleanup(server.Close)
	return server.URL
}

func TestWebSocketThroughEdge(t *testing.T) {
	h := startHarness(t)
	h.addTenant("acme", greetingWebSocket(t), "/")
	h.publish("stamp", "1.0.0")
	h.bind("acme", "stamp", "1.0.0", map[string]any{"greeting": "hi socket"})
	addrs := h.server.Edge().Addrs()

	tests := []struct {
		name   string
		url    string
		client *http.Client
	}{
		{name: "ws", url: "ws://acme.localhost/chat", client: &http.Client{Transport: h1Transport(addrs.HTTP)}},
		{name: "wss", url: "wss://acme.localhost/chat", client: &http.Client{Transport: &http.Transport{
			DialContext: dialTo(addrs.HTTPS),
			TLSClientConfig: &tls.Config{
				RootCAs:    devCertPool(t, h.server.cfg.DataDir),
				NextProtos: []string{"http/1.1"},
			},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, _, err := waitForWebSocket(ctx, tt.url, tt.client, nil)
			if err != nil {
				t.Fatalf("dial %s: %v", tt.url, err)
			}
			defer conn.CloseNow()

			// The plugin's rewrite phase ran before the upgrade.
			expectText(ctx, t, conn, "hi socket")
			if err := conn.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
				t.Fatalf("write: %v", err)
			}
			expectText(ctx, t, conn, "ping")
			if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Errorf("close: %v", err)
			}

			// The plugin's access phase refuses a handshake as it refuses
			// any request.
			denied, resp, err := websocket.Dial(ctx, tt.url, &websocket.DialOptions{HTTPClient: tt.client, HTTPHeader: http.Header{"X-Deny": {"yes"}}})
			if err == nil {
				denied.CloseNow()
				t.Fatal("handshake with X-Deny succeeded, want 403")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("denied handshake response = %v, want 403", resp)
			}
		})
	}
}

// waitForWebSocket dials url until the edge has loaded the tenant's
// latest config, at most until ctx ends.
func waitForWebSocket(ctx context.Context, url string, client *http.Client, header http.Header) (*websocket.Conn, *http.Response, error) {
	for {
		conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client, HTTPHeader: header})
		if err == nil || ctx.Err() != nil {
			return conn, resp, err
		}
		select {
		case <-ctx.Done():
			return nil, resp, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func expectText(ctx context.Context, t *testing.T, conn *websocket.Conn, want string) {
	t.Helper()
	kind, data, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if kind != websocket.MessageText || string(data) != want {
		t.Fatalf("message = (%v, %q), want text %q", kind, data, want)
	}
}
