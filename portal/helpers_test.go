package portal_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/portal"
	"portcullis.dev/portal/api"
)

const testToken = "test-operator-token-0123456789"

// fakeCompile rejects source that contains "syntax error", reporting the
// line and column of the first occurrence.
func fakeCompile(name, version, source string) error {
	for i, line := range strings.Split(source, "\n") {
		if column := strings.Index(line, "syntax error"); column >= 0 {
			return &portal.CompileError{Line: i + 1, Column: column + 1, Message: "unexpected token"}
		}
	}
	return nil
}

// syncBuffer is a log destination that tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testPortal is a portal serving on a real 127.0.0.1 socket.
type testPortal struct {
	t       *testing.T
	base    string
	portal  *portal.Portal
	client  *http.Client
	logs    *syncBuffer
	changes *changeLog
}

// changeLog records ChangeFunc calls.
type changeLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *changeLog) record(tenant string, revision int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("%s@%d", tenant, revision))
}

func (l *changeLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

func startPortal(t *testing.T) *testPortal {
	t.Helper()

	logs := &syncBuffer{}
	p, err := portal.New(portal.Config{
		DataSource: filepath.Join(t.TempDir(), "portal.db"),
		AdminToken: testToken,
		Compiler:   fakeCompile,
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("portal.New() error = %v", err)
	}
	changes := &changeLog{}
	p.OnChange(changes.record)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() error = %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve() error = %v", err)
		}
	})

	return &testPortal{
		t:       t,
		base:    "http://" + ln.Addr().String(),
		portal:  p,
		client:  &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		logs:    logs,
		changes: changes,
	}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request describes one call. Body is sent as is when it is a string and
// as JSON otherwise. A nil body sends none.
type request struct {
	method      string
	path        string
	body        any
	contentType string
	token       *string
	header      map[string]string
}

func (tp *testPortal) send(r request) response {
	tp.t.Helper()

	var body io.Reader
	switch value := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(value)
	default:
		encoded, err := json.Marshal(value)
		if err != nil {
			tp.t.Fatalf("encode request body: %v", err)
		}
		body = bytes.NewReader(encoded)
	}

	req, err := http.NewRequest(r.method, tp.base+r.path, body)
	if err != nil {
		tp.t.Fatalf("build request %s %s: %v", r.method, r.path, err)
	}
	if body != nil {
		contentType := r.contentType
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	token := testToken
	if r.token != nil {
		token = *r.token
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for name, value := range r.header {
		req.Header.Set(name, value)
	}

	if req.ContentLength > api.MaxBodyBytes {
		return tp.sendOversize(req)
	}

	resp, err := tp.client.Do(req)
	if err != nil {
		tp.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tp.t.Fatalf("read response of %s %s: %v", r.method, r.path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// sendOversize sends only the head of a request whose body is above the
// limit and reads the response. The server responds 413 from Content-Length
// alone and closes the connection, so a client that went on writing the
// body could get a reset instead of the response.
func (tp *testPortal) sendOversize(req *http.Request) response {
	tp.t.Helper()

	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		tp.t.Fatalf("dial %s: %v", req.URL.Host, err)
	}
	defer conn.Close()

	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), req.URL.Host, req.ContentLength)
	if _, err := io.WriteString(conn, head); err != nil {
		tp.t.Fatalf("write request head: %v", err)
	}
	if err := req.Header.Write(conn); err != nil {
		tp.t.Fatalf("write request headers: %v", err)
	}
	if _, err := io.WriteString(conn, "\r\n"); err != nil {
		tp.t.Fatalf("end request headers: %v", err)
	}

	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		tp.t.Fatalf("read response of %s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// do sends an authorized request and fails the test unless the status is
// want.
func (tp *testPortal) do(method, path string, body any, want int) response {
	tp.t.Helper()

	resp := tp.send(request{method: method, path: path, body: body})
	if resp.status != want {
		tp.t.Fatalf("%s %s: status = %d, want %d; body %s", method, path, resp.status, want, resp.body)
	}
	return resp
}

func decodeInto[T any](t *testing.T, resp response) T {
	t.Helper()

	var value T
	if err := json.Unmarshal(resp.body, &value); err != nil {
		t.Fatalf("decode %s: %v", resp.body, err)
	}
	return value
}

// problem is the client's view of an RFC 9457 problem.
type problem struct {
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Status     int      `json:"status"`
	Detail     string   `json:"detail"`
	Instance   string   `json:"instance"`
	RequestID  string   `json:"request_id"`
	Dependents []string `json:"dependents"`
	Errors     []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
	} `json:"errors"`
}

// checkProblem decodes a problem response and checks its media type, its
// status member and that it names wantField, when wantField is set.
func checkProblem(t *testing.T, resp response, wantStatus int, wantField string) problem {
	t.Helper()

	if resp.status != wantStatus {
		t.Errorf("status = %d, want %d; body %s", resp.status, wantStatus, resp.body)
	}
	if got := resp.header.Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
	}

	got := decodeInto[problem](t, resp)
	if got.Status != resp.status {
		t.Errorf("problem status = %d, want the HTTP status %d", got.Status, resp.status)
	}
	if !strings.HasPrefix(got.Type, "https://portcullis.dev/problems/") || got.Title == "" || got.Detail == "" {
		t.Errorf("problem = %+v, want type, title and detail", got)
	}
	if !strings.Contains(string(resp.body), `"errors":[`) {
		t.Errorf("problem %s has no errors array", resp.body)
	}

	if wantField != "" {
		var fields []string
		for _, item := range got.Errors {
			fields = append(fields, item.Field)
			if item.Message == "" {
				t.Errorf("error on field %q has no message", item.Field)
			}
		}
		if !containsString(fields, wantField) {
			t.Errorf("problem fields = %q, want %q; body %s", fields, wantField, resp.body)
		}
	}
	return got
}

func containsString(values []string, want string) bool {
	for _, value := range values {
		if value == want {
			return true
		}
	}
	return false
}

func (tp *testPortal) revision(slug string) int64 {
	tp.t.Helper()

	tenant := decodeInto[struct {
		Revision int64 `json:"revision"`
	}](tp.t, tp.do("GET", "/api/v1/tenants/"+slug, nil, http.StatusOK))
	return tenant.Revision
}

const helloSchema = `{"type":"object","properties":{"greeting":{"type":"string"}},"required":["greeting"],"additionalProperties":false}`

// seed creates tenant slug with upstream "backend", route "all", and
// publishes hello 1.0.0 and 1.1.0 unless they exist.
func (tp *testPortal) seed(slug string) {
	tp.t.Helper()

	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": slug, "name": "Tenant " + slug}, http.StatusCreated)
	tp.do("POST", "/api/v1/tenants/"+slug+"/upstreams", map[string]any{
		"name": "backend", "targets": []map[string]any{{"url": "http://127.0.0.1:9999", "weight": 1}},
	}, http.StatusCreated)
	tp.do("POST", "/api/v1/tenants/"+slug+"/routes", map[string]any{
		"name": "all", "paths": []string{"/"}, "methods": []string{"GET", "POST"}, "upstream": "backend",
	}, http.StatusCreated)

	for _, version := range []string{"1.0.0", "1.1.0"} {
		resp := tp.send(request{method: "POST", path: "/api/v1/plugins", body: map[string]any{
			"name": "hello", "version": version,
			"source":        "// hello " + version + "\nrequest.headers.set(\"X-Hello\", config.greeting)\n",
			"config_schema": json.RawMessage(helloSchema),
		}})
		if resp.status != http.StatusCreated && resp.status != http.StatusConflict {
			tp.t.Fatalf("publish hello %s: status = %d; body %s", version, resp.status, resp.body)
		}
	}
}

func (tp *testPortal) createBinding(slug string, body map[string]any) string {
	tp.t.Helper()

	resp := tp.do("POST", "/api/v1/tenants/"+slug+"/bindings", body, http.StatusCreated)
	created := decodeInto[struct {
		ID string `json:"id"`
	}](tp.t, resp)
	if created.ID == "" {
		tp.t.Fatalf("created binding has no id: %s", resp.body)
	}
	return created.ID
}
