package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// webSocketGUID is the constant that RFC 6455 section 1.3 appends to
// Sec-WebSocket-Key to derive Sec-WebSocket-Accept.
const webSocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// IsWebSocketConnect reports whether r opens a WebSocket with an extended
// CONNECT: ":protocol: websocket" on HTTP/2 (RFC 8441 section 4) or HTTP/3
// (RFC 9220 section 3). net/http stores the pseudo-header in
// r.Header[":protocol"], and quic-go stores it in r.Proto.
func IsWebSocketConnect(r *http.Request) bool {
	if r.Method != http.MethodConnect {
		return false
	}
	switch r.ProtoMajor {
	case 2:
		return r.Header.Get(":protocol") == "websocket"
	case 3:
		return r.Proto == "websocket"
	}
	return false
}

type convertedConnectKey struct{}

// isConvertedConnect reports whether r came from AcceptWebSocketConnect.
func isConvertedConnect(r *http.Request) bool {
	converted, _ := r.Context().Value(convertedConnectKey{}).(bool)
	return converted
}

// AcceptWebSocketConnect returns the writer and request with which the edge
// serves an extended CONNECT like an HTTP/1.1 WebSocket handshake. The
// request becomes a GET with "Upgrade: websocket" and a fresh
// Sec-WebSocket-Key, so routes, plugins and the upstream see the handshake
// they would see over HTTP/1.1. The writer turns the upstream's 101 into the
// 200 that accepts an extended CONNECT (RFC 8441 section 5) and then carries
// the WebSocket frames on the request stream in both directions.
func AcceptWebSocketConnect(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return w, r, fmt.Errorf("generate Sec-WebSocket-Key: %w", err)
	}
	key := base64.StdEncoding.EncodeToString(nonce)

	out := r.Clone(context.WithValue(r.Context(), convertedConnectKey{}, true))
	out.Method = http.MethodGet
	out.Proto = fmt.Sprintf("HTTP/%d.0", r.ProtoMajor)
	out.Body = http.NoBody
	out.ContentLength = 0
	out.Header.Del(":protocol")
	out.Header.Set("Connection", "Upgrade")
	out.Header.Set("Upgrade", "websocket")
	out.Header.Set("Sec-WebSocket-Key", key)
	if out.Header.Get("Sec-WebSocket-Version") == "" {
		out.Header.Set("Sec-WebSocket-Version", "13")
	}

	writer := &connectWriter{ResponseWriter: w, stream: r.Body, key: key}
	return writer, out, nil
}

// connectWriter is the response writer of a converted extended CONNECT. Its
// Hijack returns the request stream as a connection, which is what
// httputil.ReverseProxy copies WebSocket frames to and from.
type connectWriter struct {
	http.ResponseWriter
	stream io.ReadCloser
	key    string
}

// Hijack returns a connection over the request stream. The first bytes
// written to it must be the upstream's 101 response header, which it
// replaces with a 200 to the client.
func (cw *connectWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn := &streamConn{
		writer:     cw.ResponseWriter,
		controller: http.NewResponseController(cw.ResponseWriter),
		stream:     cw.stream,
		wantAccept: acceptKey(cw.key),
	}
	return conn, bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn)), nil
}

// Unwrap returns the writer of the client's stream, for
// http.ResponseController.
func (cw *connectWriter) Unwrap() http.ResponseWriter {
	return cw.ResponseWriter
}

// acceptKey returns the Sec-WebSocket-Accept value for key (RFC 6455
// section 4.2.2).
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + webSocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// streamConn is an HTTP/2 or HTTP/3 request stream seen as a net.Conn.
// Reads return the client's DATA frames and writes send DATA frames, each
// flushed at once.
//
// httputil.ReverseProxy closes the conn and returns as soon as one of its
// two copy directions ends, while the other may still be writing. The
// response writer must not be touched once the handler returns, so writes
// hold mu and Close waits for the one in progress, after which writes fail.
type streamConn struct {
	writer     http.ResponseWriter
	controller *http.ResponseController
	stream     io.ReadCloser
	wantAccept string

	mu     sync.Mutex
	closed bool
	// header holds the 101 response header until it is complete.
	header    []byte
	accepted  bool
	closeOnce sync.Once
}

func (c *streamConn) Read(p []byte) (int, error) {
	return c.stream.Read(p)
}

func (c *streamConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.closed {
		return 0, net.ErrClosed
	}
	if c.accepted {
		return c.send(p)
	}

	c.header = append(c.header, p...)
	end := bytes.Index(c.header, []byte("\r\n\r\n"))
	if end < 0 {
		return len(p), nil
	}
	if err := c.accept(); err != nil {
		return 0, err
	}

	rest := c.header[end+4:]
	c.header = nil
	if len(rest) > 0 {
		if _, err := c.send(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// accept checks the upstream's Sec-WebSocket-Accept and sends the client
// the 200 that opens the tunnel, without the HTTP/1.1 upgrade headers. The
// upstream's other headers, such as Sec-WebSocket-Protocol, pass.
func (c *streamConn) accept() error {
	header := c.writer.Header()
	if got := header.Get("Sec-WebSocket-Accept"); got != c.wantAccept {
		return fmt.Errorf("upstream Sec-WebSocket-Accept %q does not match the key the edge sent", got)
	}

	for _, name := range []string{"Connection", "Upgrade", "Sec-WebSocket-Accept", "Content-Length", "Transfer-Encoding"} {
		header.Del(name)
	}
	c.writer.WriteHeader(http.StatusOK)
	c.accepted = true
	return c.controller.Flush()
}

func (c *streamConn) send(p []byte) (int, error) {
	n, err := c.writer.Write(p)
	if err != nil {
		return n, err
	}
	return n, c.controller.Flush()
}

// Close closes the client's request stream and waits for a write in
// progress; later writes fail. A write that waits longer than
// closeWriteWait, such as one blocked by HTTP/2 flow control, is woken by a write
// deadline in the past, which resets the stream. The response stream ends
// when the handler returns.
func (c *streamConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		err = c.stream.Close()

		locked := make(chan struct{})
		go func() {
			c.mu.Lock()
			close(locked)
		}()
		select {
		case <-locked:
		case <-time.After(closeWriteWait):
			_ = c.controller.SetWriteDeadline(time.Now())
			<-locked
		}
		c.closed = true
		c.mu.Unlock()
	})
	return err
}

// closeWriteWait is how long Close lets a write in progress finish.
const closeWriteWait = time.Second

func (c *streamConn) LocalAddr() net.Addr  { return streamAddr{} }
func (c *streamConn) RemoteAddr() net.Addr { return streamAddr{} }

// SetDeadline and its two relatives return an error: a stream has no
// deadline of its own. httputil.ReverseProxy does not set one.
func (c *streamConn) SetDeadline(time.Time) error      { return errNoDeadline }
func (c *streamConn) SetReadDeadline(time.Time) error  { return errNoDeadline }
func (c *streamConn) SetWriteDeadline(time.Time) error { return errNoDeadline }

var errNoDeadline = errors.New("proxy: an extended CONNECT stream has no deadline")

// streamAddr is the address of a request stream, which has none of its
// own.
type streamAddr struct{}

func (streamAddr) Network() string { return "stream" }
func (streamAddr) String() string  { return "stream" }
