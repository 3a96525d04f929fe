package listen

import (
	"bytes"
	"net"
	"testing"
)

// addrConn is a net.Conn that only reports a remote address, which is all
// that feed needs of the connection.
type addrConn struct{ net.Conn }

func (addrConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9} }

// feedAll runs data through a fresh framing connection in pieces of at most
// step bytes and returns what the connection passes on.
func feedAll(data []byte, step int) ([]byte, framingState) {
	conn := &framingConn{Conn: addrConn{}, listener: &framingListener{maxHeader: 1024 + 4096}}
	for len(data) > 0 {
		n := min(step, len(data))
		conn.feed(data[:n])
		data = data[n:]
	}
	return conn.ready, conn.state
}

func FuzzFraming(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), uint8(1))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc"), uint8(7))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET /next HTTP/1.1\r\n\r\n"), uint8(5))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"), uint8(200))
	f.Add([]byte("GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n"), uint8(3))
	f.Add([]byte("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), uint8(2))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), uint8(4))
	f.Add([]byte("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"), uint8(9))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"), uint8(6))

	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		whole, wholeState := feedAll(data, len(data)+1)
		pieces, piecesState := feedAll(data, int(step)%64+1)

		// How the bytes arrive must not change what passes.
		if !bytes.Equal(whole, pieces) || wholeState != piecesState {
			t.Fatalf("output differs by read size %d:\nwhole  %q (state %d)\npieces %q (state %d)", int(step)%64+1, whole, wholeState, pieces, piecesState)
		}

		// What passes is the input up to some point. A rejected header
		// is followed by the replacement request; framing cut inside a
		// body is followed by nothing.
		passed := whole
		if wholeState == rejected {
			passed = bytes.TrimSuffix(whole, []byte(rejectedRequest))
		}
		if !bytes.HasPrefix(data, passed) {
			t.Fatalf("passed bytes %q are not a prefix of the input %q", passed, data)
		}
	})
}

func FuzzParseFraming(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\ncontent-length: 1, 1\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n"))

	f.Fuzz(func(t *testing.T, header []byte) {
		got, err := parseFraming(header)
		if err != nil {
			return
		}

		// An accepted header has at most one valid Content-Length, never
		// next to Transfer-Encoding.
		lengths := 0
		for _, line := range bytes.Split(header, []byte("\n"))[1:] {
			name, _, _ := bytes.Cut(line, []byte(":"))
			if bytes.EqualFold(name, []byte("content-length")) {
				lengths++
			}
		}
		if lengths > 1 || (lengths == 1 && got.chunked) || got.length < 0 {
			t.Fatalf("parseFraming(%q) = %+v with %d Content-Length lines, want an error", header, got, lengths)
		}
	})
}
