package edge

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// dialTLSRaw opens a TLS connection to the edge's HTTPS listener that
// offers only HTTP/1.1 by ALPN, with a 5 s deadline for the test.
func dialTLSRaw(t *testing.T, te *testEdge) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", te.addrs.HTTPS, &tls.Config{RootCAs: te.pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("dial TLS %s: %v", te.addrs.HTTPS, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	return conn
}

func TestTLSFramingRejected(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, nil)

	const host = "Host: acme.localhost\r\n"
	tests := []struct {
		name    string
		request string
	}{
		{name: "length and chunked", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "equal lengths", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
		{name: "length list", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 5\r\n\r\nhello"},
		{name: "obsolete folding", request: "GET / HTTP/1.1\r\n" + host + "X-Folded: a\r\n b\r\n\r\n"},
		{name: "second request smuggled", request: "GET / HTTP/1.1\r\n" + host + "\r\nPOST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			conn := dialTLSRaw(t, te)
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatalf("write request: %v", err)
			}

			reader := bufio.NewReader(conn)
			resp, _ := readRawResponse(t, reader)
			if tt.name == "second request smuggled" {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("first status = %d, want 200", resp.StatusCode)
				}
				before++
				resp, _ = readRawResponse(t, reader)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", resp.StatusCode)
			}
			checkClosed(t, reader)
			if got := hits.Load(); got != before {
				t.Errorf("upstream requests = %d, want %d: the rejected request reached it", got, before)
			}
		})
	}
}

func TestTLSFramingPassesValidRequests(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, nil)

	conn := dialTLSRaw(t, te)
	requests := "POST /a HTTP/1.1\r\nHost: acme.localhost\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /b HTTP/1.1\r\nHost: acme.localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	if _, err := io.WriteString(conn, requests); err != nil {
		t.Fatalf("write requests: %v", err)
	}

	reader := bufio.NewReader(conn)
	for _, wantPath := range []string{"/a", "/b"} {
		resp, body := readRawResponse(t, reader)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status = %d, want 200", wantPath, resp.StatusCode)
		}
		var seen upstreamSeen
		if err := json.Unmarshal([]byte(body), &seen); err != nil {
			t.Fatalf("decode upstream report %q: %v", body, err)
		}
		if seen.Path != wantPath {
			t.Errorf("upstream path = %q, want %q", seen.Path, wantPath)
		}
		// The edge restores the TLS state that its own TLS listener hides
		// from net/http.
		if proto := seen.Header.Get("X-Forwarded-Proto"); proto != "https" {
			t.Errorf("%s: X-Forwarded-Proto = %q, want https", wantPath, proto)
		}
	}
	if state := conn.ConnectionState(); state.NegotiatedProtocol != "http/1.1" {
		t.Errorf("ALPN protocol = %q, want http/1.1", state.NegotiatedProtocol)
	}
}
