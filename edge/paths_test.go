package edge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// targetUpstream starts an upstream that reads the whole request body and
// responds with the request target exactly as it arrived, the number of
// body bytes and the X-User-Id header.
func targetUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"target": r.RequestURI,
			"body":   fmt.Sprint(n),
			"user":   r.Header.Get("X-User-Id"),
		})
	}))
	t.Cleanup(server.Close)
	return server
}

// rawRequest sends one HTTP/1.1 request with target written byte for byte
// and returns the response with its body read.
func rawRequest(t *testing.T, addr, method, target, extraHeaders, body string) response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))

	request := method + " " + target + " HTTP/1.1\r\nHost: acme.localhost\r\nConnection: close\r\n" + extraHeaders + "\r\n" + body
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response to %s %q: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{Response: resp, body: data}
}

func decodeTarget(t *testing.T, r response) map[string]string {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", r.StatusCode, r.body)
	}
	var seen map[string]string
	if err := json.Unmarshal(r.body, &seen); err != nil {
		t.Fatalf("decode upstream report %q: %v", r.body, err)
	}
	return seen
}

const paramSource = `func before_proxy(ctx, conf) {
  ctx.req.set_header("X-User-Id", ctx.req.param("id"))
}`

func pathPolicyEdge(t *testing.T) *testEdge {
	t.Helper()
	upstream := targetUpstream(t)
	routes := []config.Route{
		{Name: "public", Paths: []string{"/public"}, Upstream: "api"},
		{Name: "admin", Paths: []string{"/admin"}, Upstream: "api", Headers: []config.Matcher{{Name: "X-Admin"}}},
		{Name: "health", Paths: []string{"=/healthz"}, Upstream: "api"},
		{Name: "user", Paths: []string{"/users/{id}"}, Upstream: "api"},
		{Name: "upload", Paths: []string{"/upload"}, Upstream: "api", MaxBodyBytes: 16},
	}
	bindings := []config.Binding{{ID: "b-param", Plugin: "param", Version: "1.0.0", Route: "user"}}
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, bindings, plugin("param", "1.0.0", paramSource)))
	return startEdge(t, source, nil)
}

func TestPathPolicy(t *testing.T) {
	te := pathPolicyEdge(t)

	tests := []struct {
		name       string
		target     string
		wantStatus int
		// wantTarget is the request target the upstream receives.
		wantTarget string
	}{
		{name: "clean path", target: "/public/a", wantStatus: 200, wantTarget: "/public/a"},
		{name: "double slashes", target: "//public//a", wantStatus: 200, wantTarget: "/public/a"},
		{name: "dot segments", target: "/admin/../public/./a", wantStatus: 200, wantTarget: "/public/a"},
		{name: "encoded dot dot cannot escape", target: "/public/%2e%2e/admin", wantStatus: 404},
		{name: "mixed case dot dot", target: "/public/%2E%2e/public/b", wantStatus: 200, wantTarget: "/public/b"},
		{name: "encoded slash", target: "/public%2F..%2Fadmin", wantStatus: 400},
		{name: "encoded slash lower-case", target: "/public/..%2fadmin", wantStatus: 400},
		{name: "encoded backslash", target: "/public/..%5Cadmin", wantStatus: 400},
		{name: "encoded nul", target: "/public/a%00", wantStatus: 400},
		{name: "mixed case escapes", target: "/public/caf%c3%A9/%7euser", wantStatus: 200, wantTarget: "/public/caf%C3%A9/~user"},
		{name: "reserved escape kept", target: "/public/a%3Bb", wantStatus: 200, wantTarget: "/public/a%3Bb"},
		{name: "query byte for byte", target: "/public/q?b=%2F&a=1;2&&c=%zz&D=%2e%2E+x", wantStatus: 200, wantTarget: "/public/q?b=%2F&a=1;2&&c=%zz&D=%2e%2E+x"},
		{name: "exact path", target: "/healthz", wantStatus: 200, wantTarget: "/healthz"},
		{name: "exact path not prefix", target: "/healthz/x", wantStatus: 404},
		{name: "exact path after cleaning", target: "/x/../healthz", wantStatus: 200, wantTarget: "/healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawRequest(t, te.addrs.HTTP, "GET", tt.target, "", "")
			if tt.wantStatus != http.StatusOK {
				checkProblem(t, got, tt.wantStatus)
				return
			}
			if seen := decodeTarget(t, got); seen["target"] != tt.wantTarget {
				t.Errorf("upstream target = %q, want %q", seen["target"], tt.wantTarget)
			}
		})
	}
}

func TestRouteMatchersAtEdge(t *testing.T) {
	te := pathPolicyEdge(t)

	t.Run("header matcher", func(t *testing.T) {
		got := rawRequest(t, te.addrs.HTTP, "GET", "/admin/x", "X-Admin: 1\r\n", "")
		if seen := decodeTarget(t, got); seen["target"] != "/admin/x" {
			t.Errorf("upstream target = %q, want %q", seen["target"], "/admin/x")
		}
	})
	t.Run("header missing", func(t *testing.T) {
		checkProblem(t, rawRequest(t, te.addrs.HTTP, "GET", "/admin/x", "", ""), http.StatusNotFound)
	})
	t.Run("parameter reaches plugin", func(t *testing.T) {
		got := rawRequest(t, te.addrs.HTTP, "GET", "/users/caf%C3%A9", "", "")
		if seen := decodeTarget(t, got); seen["user"] != "café" {
			t.Errorf("X-User-Id from ctx.req.param = %q, want %q", seen["user"], "café")
		}
	})
}

func TestBodyLimit(t *testing.T) {
	te := pathPolicyEdge(t)

	t.Run("within limit", func(t *testing.T) {
		got := rawRequest(t, te.addrs.HTTP, "POST", "/upload", "Content-Length: 16\r\n", strings.Repeat("x", 16))
		if seen := decodeTarget(t, got); seen["body"] != "16" {
			t.Errorf("upstream read %s body bytes, want 16", seen["body"])
		}
	})
	t.Run("content-length above limit", func(t *testing.T) {
		got := rawRequest(t, te.addrs.HTTP, "POST", "/upload", "Content-Length: 17\r\n", strings.Repeat("x", 17))
		checkProblem(t, got, http.StatusRequestEntityTooLarge)
	})
	t.Run("chunked within limit", func(t *testing.T) {
		got := rawRequest(t, te.addrs.HTTP, "POST", "/upload", "Transfer-Encoding: chunked\r\n", "8\r\nxxxxxxxx\r\n8\r\nxxxxxxxx\r\n0\r\n\r\n")
		if seen := decodeTarget(t, got); seen["body"] != "16" {
			t.Errorf("upstream read %s body bytes, want 16", seen["body"])
		}
	})
	t.Run("chunked above limit", func(t *testing.T) {
		got := rawRequest(t, te.addrs.HTTP, "POST", "/upload", "Transfer-Encoding: chunked\r\n", "10\r\n"+strings.Repeat("x", 16)+"\r\n4\r\nxxxx\r\n0\r\n\r\n")
		checkProblem(t, got, http.StatusRequestEntityTooLarge)
	})
	for _, protocol := range []string{"h2", "h3"} {
		t.Run("streamed above limit "+protocol, func(t *testing.T) {
			client, base := te.client(t, protocol)
			req, err := http.NewRequest("POST", base+"/upload", io.MultiReader(strings.NewReader(strings.Repeat("x", 40))))
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			req.Host = "acme.localhost"
			req.ContentLength = -1

			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("POST over %s: %v", protocol, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			checkProblem(t, response{Response: resp, body: body}, http.StatusRequestEntityTooLarge)
		})
	}
}

func TestPathPolicyOverHTTP2And3(t *testing.T) {
	te := pathPolicyEdge(t)

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantTarget string
	}{
		{name: "encoded dot dot", path: "/public/%2e%2e/admin", wantStatus: 404},
		{name: "encoded slash", path: "/public%2F..%2Fadmin", wantStatus: 400},
		{name: "mixed case escapes", path: "/public/caf%c3%A9", wantStatus: 200, wantTarget: "/public/caf%C3%A9"},
	}
	for _, protocol := range []string{"h2", "h3"} {
		for _, tt := range tests {
			t.Run(protocol+" "+tt.name, func(t *testing.T) {
				got := te.do(t, protocol, "GET", "acme.localhost", tt.path)
				if tt.wantStatus != http.StatusOK {
					checkProblem(t, got, tt.wantStatus)
					return
				}
				if seen := decodeTarget(t, got); seen["target"] != tt.wantTarget {
					t.Errorf("upstream target = %q, want %q", seen["target"], tt.wantTarget)
				}
			})
		}
	}
}
