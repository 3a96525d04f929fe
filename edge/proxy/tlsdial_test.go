package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// startTLSServer starts an httptest TLS server on 127.0.0.1 that offers h2
// in ALPN when h2 is true, and returns it with a client config that trusts
// it.
func startTLSServer(t *testing.T, h2 bool, handler http.Handler) (*httptest.Server, *tls.Config) {
	t.Helper()
	server := httptest.NewUnstartedServer(handler)
	server.EnableHTTP2 = h2
	server.StartTLS()
	t.Cleanup(server.Close)

	roots := x509.NewCertPool()
	roots.AddCert(server.Certificate())
	return server, &tls.Config{RootCAs: roots}
}

func TestDialRecordingTLS(t *testing.T) {
	tests := []struct {
		name      string
		serverH2  bool
		alpn      []string
		http1Only bool
		wantProto string
		recorded  bool
	}{
		{name: "h2 negotiated", serverH2: true, alpn: []string{"h2", "http/1.1"}, wantProto: "h2"},
		{name: "http/1.1 negotiated", serverH2: false, alpn: []string{"h2", "http/1.1"}, wantProto: "http/1.1", recorded: true},
		{name: "no ALPN offered", serverH2: true, alpn: nil, wantProto: "", recorded: true},
		{name: "upgrade offers no ALPN", serverH2: true, alpn: []string{"h2", "http/1.1"}, http1Only: true, wantProto: "", recorded: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, clientTLS := startTLSServer(t, tt.serverH2, http.NotFoundHandler())
			dial := dialRecordingTLS(dialer(time.Second, nil), clientTLS, tt.alpn, time.Second)
			ctx := context.Background()
			if tt.http1Only {
				ctx = context.WithValue(ctx, http1OnlyKey{}, true)
			}

			conn, err := dial(ctx, "tcp", server.Listener.Addr().String())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()

			stater, ok := conn.(interface{ ConnectionState() tls.ConnectionState })
			if !ok {
				t.Fatalf("connection %T has no ConnectionState method", conn)
			}
			state := stater.ConnectionState()
			if !state.HandshakeComplete {
				t.Errorf("HandshakeComplete = false, want true")
			}
			if state.NegotiatedProtocol != tt.wantProto {
				t.Errorf("NegotiatedProtocol = %q, want %q", state.NegotiatedProtocol, tt.wantProto)
			}
			if got := recordingOf(conn) != nil; got != tt.recorded {
				t.Errorf("connection %T records Connection fields = %v, want %v", conn, got, tt.recorded)
			}
		})
	}
}

func TestDialRecordingTLSHandshakeTimeout(t *testing.T) {
	// The listener accepts connections but never responds to a ClientHello.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := listener.Accept()
		if err == nil {
			accepted <- conn
		}
	}()
	t.Cleanup(func() {
		_ = listener.Close()
		select {
		case conn := <-accepted:
			_ = conn.Close()
		default:
		}
	})

	dial := dialRecordingTLS(dialer(time.Second, nil), nil, nil, 100*time.Millisecond)
	conn, err := dial(context.Background(), "tcp", listener.Addr().String())
	if err == nil {
		conn.Close()
		t.Fatal("dial succeeded, want a handshake timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want one that wraps context.DeadlineExceeded", err)
	}
}

func TestWebSocketUpgradeToH2CapableTLSUpstream(t *testing.T) {
	// The upstream offers h2, so the auto protocol would negotiate it. A
	// WebSocket handshake must still reach it over HTTP/1.1.
	server, _ := startTLSServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade, got "+r.Proto, http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhello")
		_ = rw.Flush()
	}))
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	b := build(t, config.Upstream{Targets: targets(server.URL), TLS: &config.UpstreamTLS{CAPEM: string(caPEM)}})
	u := newUpstreams(t, UpstreamsOptions{})

	// A plain request first, so an h2 connection to the target is pooled.
	if got := send(t, u, b, http.MethodGet, "", nil); got.status != http.StatusBadRequest {
		t.Fatalf("plain request status = %d, want 400 from the upstream", got.status)
	}

	reverseProxy := New(u, nil, nil, slog.New(slog.DiscardHandler))
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := &Call{Balancer: b, OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}}
		reverseProxy.ServeHTTP(w, r.WithContext(WithCall(r.Context(), call)))
	}))
	t.Cleanup(front.Close)

	conn, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	handshake := "GET /ws HTTP/1.1\r\nHost: acme.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(conn, handshake); err != nil {
		t.Fatalf("write handshake: %v", err)
	}

	reader := bufio.NewReader(conn)
	resp, err := http.ReadResponse(reader, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status = %d %q, want 101", resp.StatusCode, body)
	}
	greeting := make([]byte, len("hello"))
	if _, err := io.ReadFull(reader, greeting); err != nil || string(greeting) != "hello" {
		t.Errorf("tunnel read = %q, %v; want %q", greeting, err, "hello")
	}
}

func TestTLSRejectionsHTTP1Capable(t *testing.T) {
	keys := newPKI(t)
	server := startTLS(t, keys)
	port := server.Listener.Addr().(*net.TCPAddr).Port
	u := newUpstreams(t, UpstreamsOptions{})

	tests := []struct {
		name string
		tls  *config.UpstreamTLS
		url  string
	}{
		{name: "no client certificate", tls: &config.UpstreamTLS{CAPEM: keys.ca.certPEM}, url: server.URL},
		{name: "unknown CA", tls: &config.UpstreamTLS{ClientCertPEM: keys.client.certPEM, ClientKeyPEM: keys.client.keyPEM}, url: server.URL},
		{name: "name not in certificate", tls: &config.UpstreamTLS{CAPEM: keys.ca.certPEM, ClientCertPEM: keys.client.certPEM, ClientKeyPEM: keys.client.keyPEM}, url: "https://localhost:" + strconv.Itoa(port)},
	}
	for _, protocol := range []string{config.ProtocolAuto, config.ProtocolHTTP1} {
		for _, tt := range tests {
			t.Run(protocol+" "+tt.name, func(t *testing.T) {
				upstream := config.Upstream{Name: protocol + "-" + strings.ReplaceAll(tt.name, " ", "-"), Protocol: protocol, Targets: targets(tt.url), TLS: tt.tls, Retries: new(0)}
				if got := send(t, u, build(t, upstream), http.MethodGet, "", nil); got.err == nil {
					t.Errorf("request succeeded with %q, want a TLS failure", got.body)
				}
			})
		}
	}
}
