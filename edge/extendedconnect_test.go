package edge

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/quic-go/quic-go/http3"
	"golang.org/x/net/http2"

	"portcullis.dev/tenants/config"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opText  = 0x1
	opClose = 0x8
)

// writeFrame writes one final, masked client frame (RFC 6455 section 5.3).
func writeFrame(w io.Writer, opcode byte, payload []byte) error {
	header := []byte{0x80 | opcode}
	switch {
	case len(payload) < 126:
		header = append(header, 0x80|byte(len(payload)))
	case len(payload) <= 0xffff:
		header = append(header, 0x80|126)
		header = binary.BigEndian.AppendUint16(header, uint16(len(payload)))
	default:
		header = append(header, 0x80|127)
		header = binary.BigEndian.AppendUint64(header, uint64(len(payload)))
	}

	mask := make([]byte, 4)
	if _, err := rand.Read(mask); err != nil {
		return err
	}
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ mask[i%4]
	}
	_, err := w.Write(append(append(header, mask...), masked...))
	return err
}

// readFrame reads one unmasked, unfragmented server frame.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	if head[0]&0x80 == 0 || head[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("frame header %x: want a final, unmasked frame", head)
	}

	length := uint64(head[1] & 0x7f)
	switch length {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		length = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		length = binary.BigEndian.Uint64(ext[:])
	}
	if length > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes is larger than the test's 1 MiB limit", length)
	}

	payload := make([]byte, length)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return head[0] & 0x0f, payload, nil
}

// expectFrame reads a frame and checks its opcode and payload.
func expectFrame(t *testing.T, r *bufio.Reader, wantOpcode byte, wantPayload []byte) {
	t.Helper()
	opcode, payload, err := readFrame(r)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if opcode != wantOpcode || string(payload) != string(wantPayload) {
		t.Fatalf("frame = (opcode %d, %q), want (opcode %d, %q)", opcode, payload, wantOpcode, wantPayload)
	}
}

// closePayload is the body of a close frame with code and reason.
func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// checkExtendedConnect runs a WebSocket session over an extended CONNECT
// that send starts with the request stream body: the handshake, an echo,
// and a close handshake that reaches the upstream.
func checkExtendedConnect(t *testing.T, up *wsUpstream, send func(ctx context.Context, body io.Reader) (*http.Response, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	bodyReader, bodyWriter := io.Pipe()
	defer bodyWriter.Close()
	resp, err := send(ctx, bodyReader)
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", resp.StatusCode, readAll(t, resp))
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat" {
		t.Errorf("Sec-WebSocket-Protocol = %q, want %q", got, "chat")
	}
	for _, name := range []string{"Upgrade", "Connection", "Sec-WebSocket-Accept"} {
		if value := resp.Header.Get(name); value != "" {
			t.Errorf("%s = %q, want none on an extended CONNECT response", name, value)
		}
	}
	seen := <-up.headers
	if got := seen.Get("Upgrade"); got != "websocket" {
		t.Errorf("upstream Upgrade = %q, want websocket", got)
	}

	frames := bufio.NewReader(resp.Body)
	expectFrame(t, frames, opText, []byte("welcome"))
	for _, text := range []string{"hello", strings.Repeat("y", 70<<10)} {
		if err := writeFrame(bodyWriter, opText, []byte(text)); err != nil {
			t.Fatalf("write frame: %v", err)
		}
		expectFrame(t, frames, opText, []byte(text))
	}

	if err := writeFrame(bodyWriter, opClose, closePayload(1000, "bye")); err != nil {
		t.Fatalf("write close frame: %v", err)
	}
	expectFrame(t, frames, opClose, closePayload(1000, "bye"))
	select {
	case got := <-up.closes:
		if got.Code != websocket.StatusNormalClosure || got.Reason != "bye" {
			t.Errorf("upstream saw close %d %q, want 1000 %q", got.Code, got.Reason, "bye")
		}
	case <-ctx.Done():
		t.Fatal("upstream saw no close frame")
	}

	// When the client ends its stream, the edge ends the response stream.
	if err := bodyWriter.Close(); err != nil {
		t.Fatalf("end request stream: %v", err)
	}
	if rest, err := io.ReadAll(frames); err != nil || len(rest) > 0 {
		t.Errorf("after the close handshake read (%q, %v), want the end of the stream", rest, err)
	}
}

func TestWebSocketExtendedConnectHTTP3(t *testing.T) {
	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)
	transport := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: te.pool, ServerName: "localhost"}}
	defer transport.Close()

	checkExtendedConnect(t, up, func(ctx context.Context, body io.Reader) (*http.Response, error) {
		req := &http.Request{
			Method: http.MethodConnect,
			Proto:  "websocket",
			URL:    &url.URL{Scheme: "https", Host: te.addrs.HTTP3, Path: "/ws"},
			Host:   "acme.localhost",
			Header: http.Header{"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Protocol": {"chat"}},
			Body:   io.NopCloser(body),
		}
		return transport.RoundTrip(req.WithContext(ctx))
	})
}

// godebugExtendedConnect turns on RFC 8441 in net/http's HTTP/2 server. Go
// 1.26 reads it from the environment once, when net/http starts.
const godebugExtendedConnect = "http2xconnect=1"

func TestWebSocketExtendedConnectHTTP2(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), godebugExtendedConnect) {
		runWithGODEBUG(t, godebugExtendedConnect)
		return
	}

	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)
	transport := newH2ConnectTransport(te)
	defer transport.CloseIdleConnections()

	checkExtendedConnect(t, up, func(ctx context.Context, body io.Reader) (*http.Response, error) {
		return transport.RoundTrip(h2ConnectRequest(ctx, te.addrs.HTTPS, body))
	})
}

func TestExtendedConnectOffByDefaultHTTP2(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), godebugExtendedConnect) {
		t.Skip("GODEBUG turns extended CONNECT on in this process")
	}
	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)
	transport := newH2ConnectTransport(te)
	defer transport.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := transport.RoundTrip(h2ConnectRequest(ctx, te.addrs.HTTPS, http.NoBody))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("extended CONNECT got status %d, want the client to refuse it without SETTINGS_ENABLE_CONNECT_PROTOCOL", resp.StatusCode)
	}
	if !strings.Contains(err.Error(), "extended connect not supported") {
		t.Errorf("error = %v, want the client's extended connect not supported error", err)
	}
	if hits := up.hits.Load(); hits != 0 {
		t.Errorf("upstream handshakes = %d, want 0", hits)
	}
}

// newH2ConnectTransport returns an HTTP/2 client for the edge's TLS
// listener. It is golang.org/x/net/http2's, because net/http's Transport
// rejects the ":protocol" header name before its HTTP/2 code reads it (Go
// 1.26).
func newH2ConnectTransport(te *testEdge) *http2.Transport {
	return &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: te.pool, ServerName: "localhost"}}
}

// h2ConnectRequest returns an RFC 8441 WebSocket request for tenant acme.
// net/http's HTTP/2 client sends the ":protocol" header as the
// pseudo-header.
func h2ConnectRequest(ctx context.Context, addr string, body io.Reader) *http.Request {
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Scheme: "https", Host: addr, Path: "/ws"},
		Host:   "acme.localhost",
		Header: http.Header{
			":protocol":              {"websocket"},
			"Sec-Websocket-Version":  {"13"},
			"Sec-Websocket-Protocol": {"chat"},
		},
		Body:          io.NopCloser(body),
		ContentLength: -1,
	}
	return req.WithContext(ctx)
}

// runWithGODEBUG runs the current test again in a child test process whose
// environment adds setting to GODEBUG, and fails with its output if it
// fails.
func runWithGODEBUG(t *testing.T, setting string) {
	t.Helper()
	godebug := setting
	if prior := os.Getenv("GODEBUG"); prior != "" {
		godebug = prior + "," + setting
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
	output, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("start child test process: %v", err)
	}
	if err != nil {
		t.Fatalf("child test process with GODEBUG=%s failed: %v\n%s", godebug, err, output)
	}
	if !strings.Contains(string(output), "--- PASS: "+t.Name()) {
		t.Fatalf("child test process did not run %s:\n%s", t.Name(), output)
	}
}

func TestExtendedConnectPluginRejectsHTTP3(t *testing.T) {
	up := newWSUpstream(t)
	te := wsEdge(t, up, nil)
	transport := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: te.pool, ServerName: "localhost"}}
	defer transport.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := &http.Request{
		Method: http.MethodConnect,
		Proto:  "websocket",
		URL:    &url.URL{Scheme: "https", Host: te.addrs.HTTP3, Path: "/denied"},
		Host:   "acme.localhost",
		Header: http.Header{"Sec-Websocket-Version": {"13"}},
		Body:   http.NoBody,
	}
	resp, err := transport.RoundTrip(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status = %d, want the plugin's 403", resp.StatusCode)
	}
	if hits := up.hits.Load(); hits != 0 {
		t.Errorf("upstream handshakes = %d, want 0", hits)
	}
}

// newChattyUpstream returns the URL of a WebSocket upstream that, once the
// handshake is done, sends text frames without pause for up to three
// seconds or until a write fails.
func newChattyUpstream(t *testing.T) string {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()

		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			websocketAccept(r.Header.Get("Sec-WebSocket-Key")))
		frame := []byte{0x80 | opText, 4, 't', 'i', 'c', 'k'}
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := rw.Write(frame); err != nil {
				return
			}
			if err := rw.Flush(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(server.Close)
	return server.URL
}

// websocketAccept returns the Sec-WebSocket-Accept value for key (RFC 6455
// section 4.2.2).
func websocketAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// checkHalfCloseWhileUpstreamSends ends the client's side of a tunnel while
// the upstream is still sending, which ends the edge's handler while its
// copy from the upstream may be writing to the client's stream. The edge
// must end the stream and keep serving; under -race it must not write to
// the stream after the handler returns.
func checkHalfCloseWhileUpstreamSends(t *testing.T, send func(ctx context.Context, body io.Reader) (*http.Response, error)) {
	t.Helper()
	for round := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		bodyReader, bodyWriter := io.Pipe()
		resp, err := send(ctx, bodyReader)
		if err != nil {
			cancel()
			t.Fatalf("round %d: extended CONNECT: %v", round, err)
		}
		if resp.StatusCode != http.StatusOK {
			cancel()
			t.Fatalf("round %d: status = %d, want 200", round, resp.StatusCode)
		}

		frames := bufio.NewReader(resp.Body)
		for range 3 {
			expectFrame(t, frames, opText, []byte("tick"))
		}
		bodyWriter.Close()
		_, _ = io.Copy(io.Discard, frames)
		resp.Body.Close()
		if ctx.Err() != nil {
			t.Errorf("round %d: the edge did not end the stream after the client closed its side", round)
		}
		cancel()
	}
}

func TestExtendedConnectHalfCloseHTTP3(t *testing.T) {
	te := chattyEdge(t)
	transport := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: te.pool, ServerName: "localhost"}}
	defer transport.Close()

	checkHalfCloseWhileUpstreamSends(t, func(ctx context.Context, body io.Reader) (*http.Response, error) {
		req := &http.Request{
			Method: http.MethodConnect,
			Proto:  "websocket",
			URL:    &url.URL{Scheme: "https", Host: te.addrs.HTTP3, Path: "/ws"},
			Host:   "acme.localhost",
			Header: http.Header{"Sec-Websocket-Version": {"13"}},
			Body:   io.NopCloser(body),
		}
		return transport.RoundTrip(req.WithContext(ctx))
	})
}

func TestExtendedConnectHalfCloseHTTP2(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), godebugExtendedConnect) {
		runWithGODEBUG(t, godebugExtendedConnect)
		return
	}
	te := chattyEdge(t)
	transport := newH2ConnectTransport(te)
	defer transport.CloseIdleConnections()

	checkHalfCloseWhileUpstreamSends(t, func(ctx context.Context, body io.Reader) (*http.Response, error) {
		return transport.RoundTrip(h2ConnectRequest(ctx, te.addrs.HTTPS, body))
	})
}

// chattyEdge starts an edge whose tenant acme routes /ws to a chatty
// upstream.
func chattyEdge(t *testing.T) *testEdge {
	t.Helper()
	routes := []config.Route{{Name: "ws", Paths: []string{"/ws"}, Upstream: "api"}}
	source := newMemorySource(tenantBundle(t, "acme", 1, newChattyUpstream(t), routes, nil))
	return startEdge(t, source, nil)
}
