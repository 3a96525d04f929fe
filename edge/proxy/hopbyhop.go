package proxy

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"

	"golang.org/x/net/http/httpguts"
)

// maxRecordedHeader bounds the bytes a recordingConn holds while it looks
// for the end of a response header. A longer header is not scanned, and
// the transport rejects it anyway (MaxUpstreamHeaderBytes).
const maxRecordedHeader = MaxUpstreamHeaderBytes

// DialContext is the signature of net.Dialer.DialContext.
type DialContext func(ctx context.Context, network, address string) (net.Conn, error)

// RecordConnectionFields wraps dial so that each plain HTTP/1.1 upstream
// connection keeps the Connection field of the last response header it
// read. net/http's transport deletes a response's whole Connection field
// when it contains "close" (see shouldClose in net/http), so
// httputil.ReverseProxy can no longer remove the headers it names (RFC 9110
// section 7.6.1). The proxy removes them from the recording instead.
// Over TLS the recording must read decrypted bytes, so https:// targets
// get the same wrapper from dialRecordingTLS, after the handshake.
func RecordConnectionFields(dial DialContext) DialContext {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &recordingConn{Conn: conn}, nil
	}
}

// recordingConn records the Connection field values of the first final
// response header it reads after each reset. The transport sends one
// request at a time on a connection, and a request starts only after the
// previous response was read in full, so the header after a reset belongs
// to the request that reset it.
type recordingConn struct {
	net.Conn

	mu       sync.Mutex
	scanning bool
	pending  []byte
	fields   []string
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// reset starts the recording for a new request.
func (c *recordingConn) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scanning = true
	c.pending = c.pending[:0]
	c.fields = nil
}

// connectionFields returns the Connection field values of the response
// header read since the last reset.
func (c *recordingConn) connectionFields() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fields
}

func (c *recordingConn) scan(data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.scanning {
		return
	}

	c.pending = append(c.pending, data...)
	for {
		// TLS records and HTTP/2 frames are not HTTP/1.1 and end the scan.
		if len(c.pending) >= len("HTTP/") && !bytes.HasPrefix(c.pending, []byte("HTTP/")) {
			c.stop()
			return
		}
		end := bytes.Index(c.pending, []byte("\r\n\r\n"))
		if end < 0 {
			if len(c.pending) > maxRecordedHeader {
				c.stop()
			}
			return
		}

		lines := strings.Split(string(c.pending[:end]), "\r\n")
		c.pending = c.pending[end+4:]
		if isInterim(lines[0]) {
			continue
		}
		c.fields = connectionValues(lines[1:])
		c.stop()
		return
	}
}

func (c *recordingConn) stop() {
	c.scanning = false
	c.pending = nil
}

// isInterim reports whether statusLine is that of a 1xx response other
// than 101, after which the final response header follows.
func isInterim(statusLine string) bool {
	_, status, ok := strings.Cut(statusLine, " ")
	return ok && strings.HasPrefix(status, "1") && !strings.HasPrefix(status, "101")
}

// connectionValues returns the values of the Connection field lines.
func connectionValues(fieldLines []string) []string {
	var values []string
	for _, line := range fieldLines {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Connection") {
			values = append(values, strings.TrimSpace(value))
		}
	}
	return values
}

// traceConnection makes the transport reset the recording of the
// connection that out is sent on and store it in call. It also marks an
// upgrade request so that a TLS connection dialed for it stays on HTTP/1.1
// (see markHTTP1Only).
func traceConnection(out *http.Request, call *Call) *http.Request {
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			conn := recordingOf(info.Conn)
			if conn != nil {
				conn.reset()
				call.upstreamConn = conn
			}
		},
	}
	out = out.WithContext(httptrace.WithClientTrace(out.Context(), trace))
	return markHTTP1Only(out)
}

// recordingOf returns the recording of a plain or TLS upstream connection,
// or nil for a connection that records nothing.
func recordingOf(conn net.Conn) *recordingConn {
	switch conn := conn.(type) {
	case *recordingConn:
		return conn
	case *tlsRecordingConn:
		return conn.recordingConn
	default:
		return nil
	}
}

// removeClosedConnectionHeaders deletes from resp the headers that the
// upstream named in a "Connection: close, ..." field, which the transport
// removed before httputil.ReverseProxy could read it.
func removeClosedConnectionHeaders(resp *http.Response, call *Call) {
	if !resp.Close || call.upstreamConn == nil {
		return
	}
	fields := call.upstreamConn.connectionFields()
	if !httpguts.HeaderValuesContainsToken(fields, "close") {
		return
	}

	for _, value := range fields {
		for name := range strings.SplitSeq(value, ",") {
			if name = strings.TrimSpace(name); name != "" {
				resp.Header.Del(name)
			}
		}
	}
}
