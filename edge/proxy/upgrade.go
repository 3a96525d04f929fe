package proxy

import (
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
)

// DefaultWebSocketIdleTimeout is the WebSocket idle timeout used when
// Call.WebSocketIdleTimeout is zero.
const DefaultWebSocketIdleTimeout = 5 * time.Minute

// isWebSocketUpgrade reports whether r requests to switch an HTTP/1.1
// connection to WebSocket (RFC 6455 section 4.1): a GET with "Connection:
// upgrade" and "Upgrade: websocket".
func isWebSocketUpgrade(r *http.Request) bool {
	if r.Method != http.MethodGet || r.ProtoMajor != 1 {
		return false
	}
	if !httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade") {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), "websocket")
}

// limitUpgrade keeps the Upgrade and Connection headers that
// httputil.ReverseProxy restores on pr.Out only for a WebSocket handshake.
// Any other upgrade, such as "Upgrade: h2c", would switch the upstream
// connection to a protocol that the edge does not inspect, so it is sent as
// a plain request.
func limitUpgrade(pr *httputil.ProxyRequest) {
	if isWebSocketUpgrade(pr.In) || isConvertedConnect(pr.In) {
		return
	}
	pr.Out.Header.Del("Upgrade")
	pr.Out.Header.Del("Connection")
}

// watchIdle replaces the body of a 101 response, which is the upstream
// connection, with one that closes after timeout without a read or write.
// Every byte of the tunnel crosses this connection in one direction or the
// other, so it measures idleness both ways.
func watchIdle(resp *http.Response, timeout time.Duration) {
	if timeout <= 0 {
		timeout = DefaultWebSocketIdleTimeout
	}
	upstream, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		return
	}
	resp.Body = newIdleConn(upstream, timeout)
}

// idleConn closes its inner connection once no Read or Write has returned
// for the timeout.
type idleConn struct {
	inner   io.ReadWriteCloser
	timeout time.Duration
	timer   *time.Timer
	once    sync.Once
}

func newIdleConn(inner io.ReadWriteCloser, timeout time.Duration) *idleConn {
	c := &idleConn{inner: inner, timeout: timeout}
	c.timer = time.AfterFunc(timeout, func() { _ = c.Close() })
	return c
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.inner.Read(p)
	if n > 0 {
		c.timer.Reset(c.timeout)
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	n, err := c.inner.Write(p)
	if n > 0 {
		c.timer.Reset(c.timeout)
	}
	return n, err
}

func (c *idleConn) Close() error {
	var err error
	c.once.Do(func() {
		c.timer.Stop()
		err = c.inner.Close()
	})
	return err
}
