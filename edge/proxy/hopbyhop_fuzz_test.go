package proxy

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"portcullis.dev/edge/balancer"
)

// hopByHop are the request and response headers that never pass the proxy
// (RFC 9110 section 7.6.1), besides those named in Connection and every
// Proxy-* request header. "TE: trailers" is the one allowed TE value.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// setByProxy are headers that the proxy or net/http's transport set on the
// outgoing request themselves, so a client that names them in Connection
// still receives the proxy's own value upstream. Of these, only Via is also
// set on the response.
var setByProxy = map[string]bool{
	"Via": true, "X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true, "Forwarded": true,
	"X-Request-Id": true, "Accept-Encoding": true, "User-Agent": true, "Host": true, "Content-Length": true,
}

var tokenPattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// fuzzHeader decodes "Name: value" lines into a header, dropping lines
// that net/http would refuse to send.
func fuzzHeader(lines string) http.Header {
	header := http.Header{}
	for _, line := range strings.Split(lines, "\n") {
		name, value, ok := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		// The upstream reports what it saw as JSON, which would turn a
		// value that is not UTF-8 into U+FFFD, so such values are left out.
		if !ok || !tokenPattern.MatchString(name) || strings.ContainsAny(value, "\r\n\x00") || !utf8.ValidString(value) {
			continue
		}
		header.Add(name, value)
	}
	return header
}

// connectionNames returns the canonical header names listed in Connection.
func connectionNames(header http.Header) []string {
	var names []string
	for _, value := range header.Values("Connection") {
		for _, token := range strings.Split(value, ",") {
			if token = strings.TrimSpace(token); token != "" {
				names = append(names, textproto.CanonicalMIMEHeaderKey(token))
			}
		}
	}
	return names
}

func FuzzHopByHopRemoval(f *testing.F) {
	f.Add("Connection: X-Secret, Keep-Alive\nX-Secret: 1\nKeep-Alive: timeout=5\nX-Kept: yes", "Connection: X-Internal\nX-Internal: 1")
	f.Add("TE: trailers, gzip\nTransfer-Encoding: gzip\nUpgrade: h2c\nProxy-Authorization: Basic eA==\nProxy-Foo: bar", "Proxy-Authenticate: Basic\nTrailer: X-T\nKeep-Alive: 1")
	f.Add("Connection: Via, X-Forwarded-For\nConnection: te\nTe: trailers", "Upgrade: websocket\nConnection: upgrade")
	f.Add("connection: x-lower\nx-lower: v\nProxy-Connection: keep-alive", "")

	// responseHeader carries the fuzzed response headers to the upstream,
	// which runs in this process.
	var mu sync.Mutex
	var responseHeader http.Header
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for name, values := range responseHeader {
			w.Header()[name] = values
		}
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	f.Cleanup(server.Close)
	target, _ := url.Parse(server.URL)
	upstreams := NewUpstreams(UpstreamsOptions{})
	f.Cleanup(upstreams.Close)
	proxy := New(upstreams, nil, nil, slog.New(slog.DiscardHandler))
	b, err := balancer.New([]balancer.Target{{URL: target}}, balancer.Options{})
	if err != nil {
		f.Fatalf("balancer.New: %v", err)
	}
	b = b.WithUpstream(balancer.Upstream{Tenant: "acme", Name: "api"})

	f.Fuzz(func(t *testing.T, requestLines, responseLines string) {
		in := fuzzHeader(requestLines)
		out := fuzzHeader(responseLines)
		// Headers that frame the upstream's own response are net/http's
		// to set. "Connection: close" makes net/http's transport drop the
		// Connection field before the proxy reads it, a gap noted in New.
		for _, name := range []string{"Transfer-Encoding", "Content-Length", "Trailer", "Connection"} {
			out.Del(name)
		}
		var names []string
		for _, name := range connectionNames(fuzzHeader(responseLines)) {
			if name != "Close" && name != "Keep-Alive" {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			out.Set("Connection", strings.Join(names, ", "))
		}
		mu.Lock()
		responseHeader = out
		mu.Unlock()

		var proxyErr error
		call := &Call{Balancer: b, OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			proxyErr = err
			w.WriteHeader(http.StatusBadGateway)
		}}
		req := httptest.NewRequest("GET", "http://acme.localhost/x", nil)
		req.Header = in.Clone()
		recorder := httptest.NewRecorder()
		proxy.ServeHTTP(recorder, req.WithContext(WithCall(req.Context(), call)))
		if proxyErr != nil || recorder.Code != http.StatusOK {
			// A value net/http rejects (such as a bad Upgrade) ends here.
			return
		}

		var seen http.Header
		if err := json.NewDecoder(recorder.Body).Decode(&seen); err != nil {
			t.Fatalf("decode upstream report: %v", err)
		}
		if kept := in.Get("X-Kept"); kept != "" && !slices.Contains(connectionNames(in), "X-Kept") && seen.Get("X-Kept") != kept {
			t.Fatalf("end-to-end header X-Kept = %q upstream, want %q", seen.Get("X-Kept"), kept)
		}
		checkNoHopByHop(t, "request", seen, in, true)
		checkNoHopByHop(t, "response", recorder.Header(), out, false)
	})
}

// checkNoHopByHop fails when got, the headers after the proxy, still has a
// hop-by-hop header of sent, the headers before it.
func checkNoHopByHop(t *testing.T, direction string, got, sent http.Header, request bool) {
	t.Helper()
	for _, name := range hopByHop {
		values := got.Values(name)
		if name == "Te" && len(values) == 1 && values[0] == "trailers" {
			continue
		}
		if len(values) > 0 {
			t.Fatalf("%s header %s survived the proxy: %q (sent %v)", direction, name, values, sent)
		}
	}
	for _, name := range connectionNames(sent) {
		if setByProxy[name] && (request || name == "Via") {
			continue
		}
		if name == "Te" && strings.Join(got.Values(name), ",") == "trailers" {
			continue
		}
		if values := got.Values(name); len(values) > 0 && len(sent[name]) > 0 {
			t.Fatalf("%s header %s named in Connection survived the proxy: %q", direction, name, values)
		}
	}
	if !request {
		return
	}
	for name := range got {
		if strings.HasPrefix(name, "Proxy-") {
			t.Fatalf("request header %s survived the proxy", name)
		}
	}
}
