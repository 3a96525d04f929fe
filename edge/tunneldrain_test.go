package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// startShutdown runs Shutdown with a grace period in the background and
// returns the channel that receives its result.
func startShutdown(te *testEdge, grace time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		done <- te.Shutdown(ctx)
	}()
	return done
}

// waitForListenerClosed waits until the plain HTTP listener rejects new
// connections, which shows that the drain has begun.
func waitForListenerClosed(t *testing.T, te *testEdge) {
	t.Helper()
	waitFor(t, "HTTP listener closed by the drain", func() bool {
		conn, err := net.DialTimeout("tcp", te.addrs.HTTP, time.Second)
		if err != nil {
			return true
		}
		_ = conn.Close()
		return false
	})
}

func TestDrainWaitsForWebSocketTunnel(t *testing.T) {
	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	conn, _, err := te.dialWS(ctx, "ws", "/ws")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	expectMessage(ctx, t, conn, "welcome")

	// The grace period is far longer than the test, so only the closed
	// tunnel can end the drain.
	const grace = 30 * time.Second
	shutdownDone := startShutdown(te, grace)
	waitForListenerClosed(t, te)

	// The tunnel keeps working while the drain waits for it.
	if err := conn.Write(ctx, websocket.MessageText, []byte("during drain")); err != nil {
		t.Fatalf("write during drain: %v", err)
	}
	expectMessage(ctx, t, conn, "during drain")
	select {
	case err := <-shutdownDone:
		t.Fatalf("Shutdown returned %v while a tunnel was open, want it to wait", err)
	default:
	}

	if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close tunnel: %v", err)
	}
	select {
	case err := <-shutdownDone:
		if err != nil {
			t.Errorf("Shutdown: %v, want nil after the tunnel closed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Shutdown still waiting 10s after the tunnel closed (grace %v)", grace)
	}
}

// openRawTunnel sends a WebSocket handshake for acme's /ws route on conn,
// checks the 101 response and returns the reader of the tunnel.
func openRawTunnel(t *testing.T, conn net.Conn) *bufio.Reader {
	t.Helper()
	handshake := "GET /ws HTTP/1.1\r\nHost: acme.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(conn, handshake); err != nil {
		t.Fatalf("write handshake: %v", err)
	}

	reader := bufio.NewReader(conn)
	resp, err := http.ReadResponse(reader, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status = %d, want 101", resp.StatusCode)
	}
	return reader
}

func TestDrainClosesWebSocketTunnelAtDeadline(t *testing.T) {
	const grace = time.Second
	// An upper bound on Shutdown that a loaded 2-core machine meets.
	const limit = grace + 3*time.Second

	for _, scheme := range []string{"ws", "wss"} {
		t.Run(scheme, func(t *testing.T) {
			up := newWSUpstream(t)
			te := wsEdge(t, up, nil)

			var conn net.Conn
			var err error
			if scheme == "wss" {
				conn, err = tls.Dial("tcp", te.addrs.HTTPS, &tls.Config{RootCAs: te.pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
			} else {
				conn, err = net.Dial("tcp", te.addrs.HTTP)
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if err := conn.SetDeadline(time.Now().Add(limit + 5*time.Second)); err != nil {
				t.Fatalf("set deadline: %v", err)
			}
			reader := openRawTunnel(t, conn)

			start := time.Now()
			shutdownDone := startShutdown(te, grace)

			// The client sends nothing, so the tunnel stays open until the
			// edge closes it. Reading to the end returns nil at EOF.
			if _, err := io.Copy(io.Discard, reader); err != nil {
				t.Errorf("tunnel read ended with %v, want EOF", err)
			}
			select {
			case err := <-shutdownDone:
				if err == nil {
					t.Errorf("Shutdown returned nil, want the deadline error")
				}
			case <-time.After(limit + 5*time.Second):
				t.Fatalf("Shutdown still running after %v (grace %v)", limit+5*time.Second, grace)
			}
			if elapsed := time.Since(start); elapsed > limit {
				t.Errorf("Shutdown returned after %v, want within %v (grace %v)", elapsed, limit, grace)
			}

			closed := te.logs.records(t, "drain ended; closed the WebSocket tunnels still open")
			if len(closed) != 1 {
				t.Fatalf("tunnel close log lines = %d, want 1", len(closed))
			}
			if got := closed[0]["open_tunnels"]; got != float64(1) {
				t.Errorf("open_tunnels = %v, want 1", got)
			}
		})
	}
}
