package edge

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// startLimitsEdge starts an edge with tenant "acme" routed to upstream.
func startLimitsEdge(t *testing.T, upstream string, change func(*Config)) *testEdge {
	t.Helper()
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream, []config.Route{
		{Name: "all", Paths: []string{"/"}, Upstream: "api"},
	}, nil))
	return startEdge(t, source, change)
}

// dialRaw opens a TCP connection to addr with a 5 s deadline for the test.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	return conn
}

// readRawResponse reads one response from reader and its whole body.
func readRawResponse(t *testing.T, reader *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(reader, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return resp, string(body)
}

// checkClosed checks that the server closed the connection: the next read
// returns io.EOF.
func checkClosed(t *testing.T, reader *bufio.Reader) {
	t.Helper()
	extra, err := reader.ReadByte()
	if !errors.Is(err, io.EOF) {
		t.Errorf("read after response = (%q, %v), want io.EOF", extra, err)
	}
}

func TestFramingRejected(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, func(cfg *Config) {
		cfg.HTTPSAddr = ""
	})

	const host = "Host: acme.localhost\r\n"
	tests := []struct {
		name    string
		request string
	}{
		{name: "length and chunked", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "chunked and length", request: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"},
		{name: "equal lengths", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
		{name: "conflicting lengths", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
		{name: "length list", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 5\r\n\r\nhello"},
		{name: "signed length", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: +5\r\n\r\nhello"},
		{name: "hex length", request: "POST / HTTP/1.1\r\n" + host + "Content-Length: 0x5\r\n\r\nhello"},
		{name: "obsolete folding", request: "GET / HTTP/1.1\r\n" + host + "X-Folded: a\r\n b\r\n\r\n"},
		{name: "folding with tab", request: "GET / HTTP/1.1\r\n" + host + "X-Folded: a\r\n\tb\r\n\r\n"},
		{name: "chunked in HTTP/1.0", request: "POST / HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "second request smuggled", request: "GET / HTTP/1.1\r\n" + host + "\r\nPOST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			conn := dialRaw(t, te.addrs.HTTP)
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatalf("write request: %v", err)
			}

			reader := bufio.NewReader(conn)
			resp, firstBody := readRawResponse(t, reader)
			if strings.HasPrefix(tt.name, "second") {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("first status = %d, want 200", resp.StatusCode)
				}
				if got := hits.Load(); got != before+1 {
					t.Fatalf("upstream requests after the first = %d, want %d (status %d, body %q)", got, before+1, resp.StatusCode, firstBody)
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

func TestFramingFollowsBodies(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, func(cfg *Config) {
		cfg.HTTPSAddr = ""
	})

	// Three pipelined requests: a chunked body with an extension and a
	// trailer, a Content-Length body that looks like a header, and a GET.
	// The check must find each request's start, or it rejects a body.
	const host = "Host: acme.localhost\r\n"
	requests := "POST /a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" +
		"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n" +
		"POST /b HTTP/1.1\r\n" + host + "Content-Length: 20\r\n\r\n" + "X: a\r\n b\r\nC: 1\r\n\r\n\r\n" +
		"GET /c HTTP/1.1\r\n" + host + "\r\n"

	conn := dialRaw(t, te.addrs.HTTP)
	if _, err := io.WriteString(conn, requests); err != nil {
		t.Fatalf("write requests: %v", err)
	}
	reader := bufio.NewReader(conn)
	for _, path := range []string{"/a", "/b", "/c"} {
		resp, body := readRawResponse(t, reader)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status = %d, want 200 (body %q)", path, resp.StatusCode, body)
		}
		if !strings.Contains(body, `"path":"`+path+`"`) {
			t.Errorf("%s: upstream report %q does not name the path", path, body)
		}
	}
	if got := hits.Load(); got != 3 {
		t.Errorf("upstream requests = %d, want 3", got)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, func(cfg *Config) {
		cfg.HTTPSAddr = ""
		cfg.MaxHeaderBytes = 1024
	})

	tests := []struct {
		name       string
		fieldBytes int
		want       int
	}{
		{name: "within limit", fieldBytes: 512, want: http.StatusOK},
		// net/http allows 4096 bytes above MaxHeaderBytes.
		{name: "over limit", fieldBytes: 8192, want: http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := dialRaw(t, te.addrs.HTTP)
			request := "GET / HTTP/1.1\r\nHost: acme.localhost\r\nX-Big: " + strings.Repeat("a", tt.fieldBytes) + "\r\n\r\n"
			if _, err := io.WriteString(conn, request); err != nil {
				t.Fatalf("write request: %v", err)
			}

			resp, _ := readRawResponse(t, bufio.NewReader(conn))
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestSlowHeaderClosed(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	const timeout = 300 * time.Millisecond
	te := startLimitsEdge(t, upstream.URL, func(cfg *Config) {
		cfg.HTTPSAddr = ""
		cfg.ReadHeaderTimeout = timeout
	})

	// The server's deadline starts when it accepts the connection, so the
	// clock starts before the dial to never measure less than the timeout.
	start := time.Now()
	conn := dialRaw(t, te.addrs.HTTP)
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: acme.localhost\r\nX-Slow: "); err != nil {
		t.Fatalf("write partial header: %v", err)
	}

	n, err := conn.Read(make([]byte, 1024))
	elapsed := time.Since(start)
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read = (%d bytes, %v), want io.EOF from a closed connection", n, err)
	}
	if elapsed < timeout || elapsed > 3*time.Second {
		t.Errorf("closed after %v, want between %v and 3s", elapsed, timeout)
	}
}

// rawUpstream starts an HTTP/1.1 upstream on a bare listener that records
// each request's header as received and responds with response, which is
// written unchanged.
func rawUpstream(t *testing.T, response string) (string, <-chan http.Header) {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = listener.Close() })

	headers := make(chan http.Header, 10)
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			request, err := http.ReadRequest(bufio.NewReader(conn))
			if err == nil {
				headers <- request.Header
				_, _ = io.WriteString(conn, response)
			}
			_ = conn.Close()
		}
	}()
	return "http://" + listener.Addr().String(), headers
}

func TestHopByHopRemoved(t *testing.T) {
	upstream, received := rawUpstream(t, "HTTP/1.1 200 OK\r\n"+
		"Connection: X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n"+
		"Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-Kept: 1\r\nContent-Length: 2\r\n\r\nok")
	te := startLimitsEdge(t, upstream, func(cfg *Config) {
		cfg.HTTPSAddr = ""
	})

	conn := dialRaw(t, te.addrs.HTTP)
	request := "GET / HTTP/1.1\r\nHost: acme.localhost\r\n" +
		"Connection: keep-alive, X-Drop\r\nX-Drop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n" +
		"Upgrade: websocket\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic YTpi\r\nProxy-Custom: 1\r\n" +
		"X-Kept: 1\r\n\r\n"
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, body := readRawResponse(t, bufio.NewReader(conn))
	if resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("response = %d %q, want 200 %q", resp.StatusCode, body, "ok")
	}

	var got http.Header
	select {
	case got = <-received:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream received no request within 5s")
	}
	for _, name := range []string{"X-Drop", "Keep-Alive", "Upgrade", "Proxy-Connection", "Proxy-Authorization", "Proxy-Custom"} {
		if values := got.Values(name); len(values) > 0 {
			t.Errorf("upstream received %s: %q, want none", name, values)
		}
	}
	if connection := got.Values("Connection"); len(connection) > 0 {
		t.Errorf("upstream received Connection %q, want none", connection)
	}
	if te := got.Get("Te"); te != "trailers" {
		t.Errorf("upstream received TE %q, want %q", te, "trailers")
	}
	if kept := got.Get("X-Kept"); kept != "1" {
		t.Errorf("upstream received X-Kept %q, want %q", kept, "1")
	}

	for _, name := range []string{"X-Secret", "Keep-Alive", "Proxy-Connection", "Upgrade"} {
		if values := resp.Header.Values(name); len(values) > 0 {
			t.Errorf("client received %s: %q, want none", name, values)
		}
	}
	if kept := resp.Header.Get("X-Kept"); kept != "1" {
		t.Errorf("client received X-Kept %q, want %q", kept, "1")
	}
}

func TestForwardedHeaders(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	tests := []struct {
		name        string
		trusted     []netip.Prefix
		wantFor     string
		wantHost    string
		wantProto   string
		wantElement string
	}{
		{
			name:        "untrusted client",
			trusted:     []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			wantFor:     "127.0.0.1",
			wantHost:    "acme.localhost",
			wantProto:   "http",
			wantElement: `for=127.0.0.1;host="acme.localhost";proto=http`,
		},
		{
			name:        "trusted proxy",
			trusted:     []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			wantFor:     "203.0.113.9, 127.0.0.1",
			wantHost:    "shop.example",
			wantProto:   "https",
			wantElement: `for=203.0.113.9;proto=https, for=127.0.0.1;host="acme.localhost";proto=http`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := startLimitsEdge(t, upstream.URL, func(cfg *Config) {
				cfg.TrustedProxies = tt.trusted
			})
			req, err := http.NewRequest("GET", "http://"+te.addrs.HTTP+"/", nil)
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			req.Host = "acme.localhost"
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("X-Forwarded-Host", "shop.example")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("Forwarded", "for=203.0.113.9;proto=https")

			resp, err := te.h1.Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			defer resp.Body.Close()
			seen := response{Response: resp, body: readAll(t, resp)}.seen(t)

			checks := []struct{ name, got, want string }{
				{"X-Forwarded-For", strings.Join(seen.Header.Values("X-Forwarded-For"), ", "), tt.wantFor},
				{"X-Forwarded-Host", seen.Header.Get("X-Forwarded-Host"), tt.wantHost},
				{"X-Forwarded-Proto", seen.Header.Get("X-Forwarded-Proto"), tt.wantProto},
				{"Forwarded", strings.Join(seen.Header.Values("Forwarded"), ", "), tt.wantElement},
			}
			for _, check := range checks {
				if check.got != check.want {
					t.Errorf("upstream %s = %q, want %q", check.name, check.got, check.want)
				}
			}
		})
	}
}

func TestViaVersions(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	te := startLimitsEdge(t, upstream.URL, nil)

	tests := []struct {
		protocol string
		want     string
	}{
		{protocol: "h1", want: "1.1 portcullis"},
		{protocol: "h2c", want: "2 portcullis"},
		{protocol: "h2", want: "2 portcullis"},
		{protocol: "h3", want: "3 portcullis"},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			got := te.do(t, tt.protocol, "GET", "acme.localhost", "/")
			if via := got.seen(t).Header.Get("Via"); via != tt.want {
				t.Errorf("upstream Via = %q, want %q", via, tt.want)
			}
			// The test upstream responds over HTTP/1.1.
			if via := got.Header.Get("Via"); via != "1.1 portcullis" {
				t.Errorf("response Via = %q, want %q", via, "1.1 portcullis")
			}
		})
	}
}
