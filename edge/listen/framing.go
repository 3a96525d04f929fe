package listen

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// rejectedRequest replaces a request that Framing rejects. net/http answers
// its malformed request line with 400 Bad Request and closes the
// connection. It is longer than the 24-byte HTTP/2 preface, because a
// server with h2c reads that many bytes before it parses a request.
const rejectedRequest = "REJECTED-AMBIGUOUS-FRAMING\r\n\r\n"

// maxLineBytes bounds a chunk-size line or a trailer line.
const maxLineBytes = 4096

// Framing wraps a listener of plain HTTP/1.1 connections. Each connection
// holds back every request header until it is complete and rejects, before
// net/http parses it, the framing that net/http accepts but that lets
// request smuggling through (RFC 9112 sections 5.2 and 6.3):
//
//   - both Content-Length and Transfer-Encoding,
//   - more than one Content-Length, equal or not, or a list in one field,
//   - a Content-Length that is not all digits,
//   - Transfer-Encoding in an HTTP/1.0 request,
//   - obsolete line folding (a field line that starts with a space or tab).
//
// A rejected request becomes one that net/http rejects with 400 and a
// closed connection. Headers larger than maxHeaderBytes plus 4096 bytes
// pass unchecked, because net/http rejects them with 431. onReject, if not
// nil, receives the client address and the reason.
//
// The connection follows Content-Length and chunked bodies to find the next
// request. After the HTTP/2 preface or a request with Upgrade it stops
// checking, because the bytes that follow are no longer HTTP/1.1.
func Framing(inner net.Listener, maxHeaderBytes int, onReject func(remote string, err error)) net.Listener {
	return &framingListener{Listener: inner, maxHeader: maxHeaderBytes + 4096, onReject: onReject}
}

type framingListener struct {
	net.Listener
	maxHeader int
	onReject  func(string, error)
}

func (l *framingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: conn, listener: l, buf: make([]byte, 32<<10)}, nil
}

// framingState is the part of an HTTP/1.1 message the next byte belongs to.
type framingState int

const (
	inHeader framingState = iota
	inBody
	inChunkSize
	inChunkData
	inChunkEnd
	inTrailer
	passThrough
	rejected
)

type framingConn struct {
	net.Conn
	listener *framingListener
	buf      []byte

	state framingState
	// pending is the incomplete header or line held back in its state.
	pending []byte
	// ready are the checked bytes not yet returned by Read.
	ready []byte
	// remaining counts the body or chunk bytes still to pass.
	remaining int64
	// upgrade is set while the body of a request with Upgrade passes.
	upgrade bool
}

// Read returns checked bytes. After a rejection it returns the replacement
// request and then drops what the client sends until the read fails. It
// does not return io.EOF itself, because net/http would take that for a
// client that went away and cancel a request still in flight.
func (c *framingConn) Read(p []byte) (int, error) {
	for len(c.ready) == 0 {
		n, err := c.Conn.Read(c.buf)
		c.feed(c.buf[:n])
		if err != nil && len(c.ready) == 0 {
			return 0, err
		}
	}

	n := copy(p, c.ready)
	c.ready = c.ready[n:]
	return n, nil
}

// feed runs data through the state machine, moving checked bytes to ready.
func (c *framingConn) feed(data []byte) {
	for len(data) > 0 {
		switch c.state {
		case passThrough:
			c.ready = append(c.ready, data...)
			return
		case rejected:
			return
		case inBody, inChunkData:
			data = c.passBody(data)
		default:
			data = c.takeLine(data)
		}
	}
}

// passBody passes up to remaining bytes and returns the rest of data.
func (c *framingConn) passBody(data []byte) []byte {
	n := int64(len(data))
	if n > c.remaining {
		n = c.remaining
	}
	c.ready = append(c.ready, data[:n]...)
	c.remaining -= n

	if c.remaining == 0 {
		if c.state == inChunkData {
			c.state = inChunkEnd
		} else {
			c.endMessage()
		}
	}
	return data[n:]
}

// takeLine adds data up to the next line feed to pending and handles the
// line when it is complete. It returns the rest of data.
func (c *framingConn) takeLine(data []byte) []byte {
	end := bytes.IndexByte(data, '\n')
	if end < 0 {
		c.pending = append(c.pending, data...)
		c.checkPendingSize()
		return nil
	}

	c.pending = append(c.pending, data[:end+1]...)
	rest := data[end+1:]
	if c.state == inHeader {
		c.headerLine()
	} else {
		c.bodyLine()
	}
	return rest
}

// checkPendingSize stops holding back a header too large for net/http to
// accept, and stops the connection on an overlong chunk line.
func (c *framingConn) checkPendingSize() {
	switch {
	case c.state == inHeader && len(c.pending) > c.listener.maxHeader:
		c.ready = append(c.ready, c.pending...)
		c.pending = nil
		c.state = passThrough
	case c.state != inHeader && len(c.pending) > maxLineBytes:
		c.cut()
	}
}

// headerLine handles the header once its last, empty line is in pending.
func (c *framingConn) headerLine() {
	line := bytes.TrimRight(c.pending[bytes.LastIndexByte(c.pending[:len(c.pending)-1], '\n')+1:], "\r\n")
	if bytes.HasPrefix(c.pending, []byte("PRI * HTTP/2.0")) {
		c.release()
		c.state = passThrough
		return
	}
	if len(line) > 0 {
		c.checkPendingSize()
		return
	}
	if len(bytes.TrimSpace(c.pending)) == 0 {
		// Empty lines before a request line are passed to net/http.
		c.release()
		return
	}

	framing, err := parseFraming(c.pending)
	if err != nil {
		c.reject(err)
		return
	}
	c.release()
	c.upgrade = framing.upgrade
	c.startBody(framing)
}

func (c *framingConn) startBody(f framing) {
	switch {
	case f.chunked:
		c.state = inChunkSize
	case f.length > 0:
		c.state, c.remaining = inBody, f.length
	default:
		c.endMessage()
	}
}

// bodyLine handles a chunk-size line, the line end after chunk data or a
// trailer line (RFC 9112 section 7.1).
func (c *framingConn) bodyLine() {
	line := bytes.TrimRight(c.pending, "\r\n")
	c.release()

	switch c.state {
	case inChunkSize:
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		switch {
		case err != nil || n < 0:
			c.cut()
		case n == 0:
			c.state = inTrailer
		default:
			c.state, c.remaining = inChunkData, n
		}
	case inChunkEnd:
		c.state = inChunkSize
	case inTrailer:
		if len(line) == 0 {
			c.endMessage()
		}
	}
}

// endMessage starts the next request, or stops checking after an upgrade.
func (c *framingConn) endMessage() {
	c.state = inHeader
	if c.upgrade {
		c.state = passThrough
	}
}

func (c *framingConn) release() {
	c.ready = append(c.ready, c.pending...)
	c.pending = nil
}

// reject drops the held-back header and queues the replacement request.
func (c *framingConn) reject(err error) {
	if c.listener.onReject != nil {
		c.listener.onReject(c.RemoteAddr().String(), err)
	}
	c.pending = nil
	c.ready = append(c.ready, rejectedRequest...)
	c.state = rejected
}

// cut drops the rest of the stream, so net/http reads a body that never
// ends and fails at its read timeout or when the client closes. It is used
// on chunk framing that net/http rejects too.
func (c *framingConn) cut() {
	c.pending = nil
	c.state = rejected
}

// framing is the body framing of one request.
type framing struct {
	length  int64
	chunked bool
	upgrade bool
}

// errFraming is the error that every rejection wraps.
var errFraming = errors.New("request framing is ambiguous")

// parseFraming reads the body framing of a complete request header and
// returns an error wrapping errFraming for the cases Framing rejects.
func parseFraming(header []byte) (framing, error) {
	lines := bytes.Split(bytes.TrimRight(header, "\r\n"), []byte("\n"))
	var f framing
	lengths := 0
	for _, raw := range lines[1:] {
		line := bytes.TrimRight(raw, "\r")
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			return f, fmt.Errorf("%w: obsolete line folding in %q", errFraming, line)
		}

		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch string(bytes.ToLower(name)) {
		case "content-length":
			lengths++
			n, err := parseLength(value)
			if err != nil {
				return f, err
			}
			f.length = n
		case "transfer-encoding":
			f.chunked = true
		case "upgrade":
			f.upgrade = true
		}
	}

	return f, checkFraming(f, lengths, bytes.HasSuffix(bytes.TrimRight(lines[0], "\r"), []byte("HTTP/1.0")))
}

func parseLength(value []byte) (int64, error) {
	if len(value) == 0 || bytes.IndexFunc(value, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, fmt.Errorf("%w: invalid Content-Length %q", errFraming, value)
	}
	n, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: invalid Content-Length %q: %w", errFraming, value, err)
	}
	return n, nil
}

func checkFraming(f framing, lengths int, http10 bool) error {
	switch {
	case lengths > 1:
		return fmt.Errorf("%w: %d Content-Length fields", errFraming, lengths)
	case f.chunked && lengths > 0:
		return fmt.Errorf("%w: both Content-Length and Transfer-Encoding", errFraming)
	case f.chunked && http10:
		return fmt.Errorf("%w: Transfer-Encoding in an HTTP/1.0 request", errFraming)
	}
	return nil
}
