package chain

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// step compiles source and binds it with config.
func step(t *testing.T, name, source, config string) Step {
	t.Helper()
	plugin, err := NewCompiler(0).Compile(code(name, "1.0.0", source))
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	instance, err := plugin.Bind([]byte(config))
	if err != nil {
		t.Fatalf("bind %s: %v", name, err)
	}
	return Step{Binding: "b-" + name, Plugin: name, Version: "1.0.0", Instance: instance}
}

// appendSource appends its conf["mark"] to X-Order in the given phase.
func appendSource(phase string) string {
	return `func ` + phase + `(ctx, conf) {
	ctx.req.set_header("X-Order", ctx.req.header("X-Order") + conf["mark"])
}`
}

func TestRunRequestOrder(t *testing.T) {
	chain := New([]Step{
		step(t, "access-a", appendSource("access"), `{"mark":"A"}`),
		step(t, "rewrite-b", appendSource("rewrite"), `{"mark":"b"}`),
		step(t, "rewrite-c", appendSource("rewrite"), `{"mark":"c"}`),
	})
	ex := NewExchange(httptest.NewRequest("GET", "/x", nil))

	if err := chain.RunRequest(context.Background(), ex); err != nil {
		t.Fatalf("RunRequest: %v", err)
	}
	// All rewrite steps run before any access step, each phase in order.
	if got := ex.Request.Header.Get("X-Order"); got != "bcA" {
		t.Errorf("X-Order = %q, want %q", got, "bcA")
	}
}

func TestRunRequestStopsAtExit(t *testing.T) {
	chain := New([]Step{
		step(t, "gate", `func rewrite(ctx, conf) { ctx.exit(401, "log in first") }`, `{}`),
		step(t, "later-rewrite", appendSource("rewrite"), `{"mark":"r"}`),
		step(t, "later-access", appendSource("access"), `{"mark":"a"}`),
	})
	ex := NewExchange(httptest.NewRequest("GET", "/x", nil))

	if err := chain.RunRequest(context.Background(), ex); err != nil {
		t.Fatalf("RunRequest: %v", err)
	}
	if ex.Exit == nil || ex.Exit.Status != 401 || ex.Exit.Body != "log in first" {
		t.Fatalf("Exit = %+v, want 401 with body", ex.Exit)
	}
	if got := ex.Request.Header.Get("X-Order"); got != "" {
		t.Errorf("X-Order = %q, want no step after the exit to run", got)
	}
}

func TestRunRequestError(t *testing.T) {
	chain := New([]Step{step(t, "fails", `func access(ctx, conf) { error("backend down") }`, `{}`)})
	ex := NewExchange(httptest.NewRequest("GET", "/x", nil))

	err := chain.RunRequest(context.Background(), ex)
	var stepErr *Error
	if !errors.As(err, &stepErr) {
		t.Fatalf("RunRequest error = %v, want *Error", err)
	}
	if stepErr.Step.Plugin != "fails" || stepErr.Phase != pluginhost.PhaseAccess {
		t.Errorf("error names plugin %q phase %q, want fails in access", stepErr.Step.Plugin, stepErr.Phase)
	}
	if !strings.Contains(err.Error(), "backend down") {
		t.Errorf("error %q lacks the plugin's message", err)
	}
}

func TestApplyRequest(t *testing.T) {
	in := httptest.NewRequest("GET", "/old%2Fpath?a=1", nil)
	in.Header.Set("X-Keep", "yes")
	chain := New([]Step{step(t, "move", `func rewrite(ctx, conf) {
	ctx.req.set_path("/new")
	ctx.req.set_header("X-Added", "1")
	ctx.req.del_header("X-Keep")
}`, `{}`)})
	ex := NewExchange(in)
	if err := chain.RunRequest(context.Background(), ex); err != nil {
		t.Fatalf("RunRequest: %v", err)
	}

	out := ApplyRequest(in, ex)

	checks := []struct {
		name string
		got  string
		want string
	}{
		{name: "out path", got: out.URL.Path, want: "/new"},
		{name: "out raw path", got: out.URL.RawPath, want: ""},
		{name: "out query", got: out.URL.RawQuery, want: "a=1"},
		{name: "out added header", got: out.Header.Get("X-Added"), want: "1"},
		{name: "out deleted header", got: out.Header.Get("X-Keep"), want: ""},
		{name: "in path", got: in.URL.Path, want: "/old/path"},
		{name: "in header", got: in.Header.Get("X-Keep"), want: "yes"},
		{name: "in added header", got: in.Header.Get("X-Added"), want: ""},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("%s = %q, want %q", check.name, check.got, check.want)
		}
	}
}

func TestApplyRequestKeepsRawPath(t *testing.T) {
	in := httptest.NewRequest("GET", "/files/a%2Fb", nil)
	ex := NewExchange(in)

	out := ApplyRequest(in, ex)
	if got := out.URL.EscapedPath(); got != "/files/a%2Fb" {
		t.Errorf("escaped path = %q, want the encoded slash kept", got)
	}
}

// upstreamResponse returns a JSON response to a GET of /x.
func upstreamResponse() *http.Response {
	header := http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set("Content-Length", "2")
	header.Set("Content-Encoding", "identity")
	return &http.Response{
		StatusCode:    200,
		Header:        header,
		Body:          io.NopCloser(strings.NewReader("{}")),
		ContentLength: 2,
	}
}

func TestRunResponse(t *testing.T) {
	tests := []struct {
		name            string
		source          string
		status          int
		wantStatus      int
		wantBody        string
		wantHeader      string
		wantContentType string
	}{
		{
			name:   "header change",
			source: `func header_filter(ctx, conf) { ctx.resp.set_header("X-Filtered", "yes") }`,
			status: 200, wantStatus: 200, wantBody: "{}", wantHeader: "yes", wantContentType: "application/json",
		},
		{
			name:   "exit replaces body",
			source: `func header_filter(ctx, conf) { ctx.exit(503, "maintenance") }`,
			status: 200, wantStatus: 503, wantBody: "maintenance", wantContentType: "text/plain; charset=utf-8",
		},
		{
			name: "exit keeps plugin type",
			source: `func header_filter(ctx, conf) {
	ctx.resp.set_header("Content-Type", "application/problem+json")
	ctx.exit(403, "{}")
}`,
			status: 200, wantStatus: 403, wantBody: "{}", wantContentType: "application/problem+json",
		},
		{
			name:   "switching protocols skipped",
			source: `func header_filter(ctx, conf) { ctx.exit(500, "never") }`,
			status: 101, wantStatus: 101, wantBody: "{}", wantContentType: "application/json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain := New([]Step{step(t, "filter", tt.source, `{}`)})
			in := httptest.NewRequest("GET", "/x", nil)
			ex := NewExchange(in)
			resp := upstreamResponse()
			resp.StatusCode = tt.status

			if err := chain.RunResponse(in.Context(), ex, resp); err != nil {
				t.Fatalf("RunResponse: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("X-Filtered"); got != tt.wantHeader {
				t.Errorf("X-Filtered = %q, want %q", got, tt.wantHeader)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantContentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantContentType)
			}
			if tt.wantStatus != tt.status && resp.ContentLength != int64(len(tt.wantBody)) {
				t.Errorf("ContentLength = %d, want %d", resp.ContentLength, len(tt.wantBody))
			}
		})
	}
}

func TestRunResponseWithoutFilter(t *testing.T) {
	chain := New([]Step{step(t, "rewrite-only", appendSource("rewrite"), `{"mark":"x"}`)})
	in := httptest.NewRequest("GET", "/x", nil)
	resp := upstreamResponse()

	if err := chain.RunResponse(in.Context(), NewExchange(in), resp); err != nil {
		t.Fatalf("RunResponse: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if chain.Has(pluginhost.PhaseHeaderFilter) {
		t.Error("Has(header_filter) = true for a rewrite-only chain")
	}
}
