package pluginhost

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestContextReads checks each value a hook can read. The hook stores what it
// read in the response header X-Got.
func TestContextReads(t *testing.T) {
	tests := []struct {
		name   string
		phase  Phase
		status int
		expr   string
		want   string
	}{
		{"request method", PhaseAccess, 0, "ctx.req.method", "GET"},
		{"request host", PhaseAccess, 0, "ctx.req.host", "example.com"},
		{"request path", PhaseRewrite, 0, "ctx.req.path", "/items"},
		{"request query", PhaseAccess, 0, "ctx.req.query", "page=2"},
		{"request header", PhaseAccess, 0, `ctx.req.header("Accept")`, "application/json"},
		{"request header lower case", PhaseAccess, 0, `ctx.req.header("accept")`, "application/json"},
		{"request header absent", PhaseAccess, 0, `"[" + ctx.req.header("X-Missing") + "]"`, "[]"},
		{"response status before upstream", PhaseAccess, 0, "string(ctx.resp.status)", "0"},
		{"response status in header_filter", PhaseHeaderFilter, 502, "string(ctx.resp.status)", "502"},
		{"response header", PhaseHeaderFilter, 200, `ctx.resp.header("Content-Type")`, "text/plain"},
		{"phase", PhaseRewrite, 0, "ctx.phase", "rewrite"},
		{"request type", PhaseAccess, 0, "type(ctx.req)", "request"},
		{"method type", PhaseAccess, 0, "type(ctx.req.header)", "builtin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func " + string(tt.phase) + "(ctx, conf) {\n  ctx.resp.set_header(\"X-Got\", " + tt.expr + ")\n}"
			instance := mustBind(t, source, "")
			ex := newExchange()
			ex.Response = Response{Status: tt.status, Header: http.Header{"Content-Type": {"text/plain"}}}

			mustRun(t, instance, tt.phase, ex)

			if got := ex.Response.Header.Get("X-Got"); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

// TestContextWrites checks each function that changes the exchange.
func TestContextWrites(t *testing.T) {
	tests := []struct {
		name  string
		phase Phase
		body  string
		field func(ex *Exchange) string
		want  string
	}{
		{
			name:  "request set_header adds",
			phase: PhaseAccess,
			body:  `ctx.req.set_header("X-Tenant", "acme")`,
			field: func(ex *Exchange) string { return ex.Request.Header.Get("X-Tenant") },
			want:  "acme",
		},
		{
			name:  "request set_header replaces",
			phase: PhaseAccess,
			body:  `ctx.req.set_header("accept", "text/html")`,
			field: func(ex *Exchange) string { return strings.Join(ex.Request.Header.Values("Accept"), ",") },
			want:  "text/html",
		},
		{
			name:  "request del_header",
			phase: PhaseAccess,
			body:  `ctx.req.del_header("Accept")`,
			field: func(ex *Exchange) string { return strings.Join(ex.Request.Header.Values("Accept"), ",") },
			want:  "",
		},
		{
			name:  "request del_header absent",
			phase: PhaseAccess,
			body:  `ctx.req.del_header("X-Missing")`,
			field: func(ex *Exchange) string { return ex.Request.Header.Get("Accept") },
			want:  "application/json",
		},
		{
			name:  "request set_path",
			phase: PhaseRewrite,
			body:  `ctx.req.set_path("/v2" + ctx.req.path)`,
			field: func(ex *Exchange) string { return ex.Request.Path },
			want:  "/v2/items",
		},
		{
			name:  "request set_path resolves dot segments",
			phase: PhaseRewrite,
			body:  `ctx.req.set_path("/rewritten/../../x//y/")`,
			field: func(ex *Exchange) string { return ex.Request.Path },
			want:  "/x/y/",
		},
		{
			name:  "response set_header on nil header",
			phase: PhaseAccess,
			body:  `ctx.resp.set_header("X-Frame-Options", "DENY")`,
			field: func(ex *Exchange) string { return ex.Response.Header.Get("X-Frame-Options") },
			want:  "DENY",
		},
		{
			name:  "response del_header on nil header",
			phase: PhaseAccess,
			body:  `ctx.resp.del_header("Server")`,
			field: func(ex *Exchange) string { return ex.Response.Header.Get("Server") },
			want:  "",
		},
		{
			name:  "exit with body",
			phase: PhaseAccess,
			body:  `ctx.exit(403, "denied")`,
			field: func(ex *Exchange) string { return exitString(ex.Exit) },
			want:  "403 denied",
		},
		{
			name:  "exit without body",
			phase: PhaseRewrite,
			body:  `ctx.exit(204)`,
			field: func(ex *Exchange) string { return exitString(ex.Exit) },
			want:  "204 ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func " + string(tt.phase) + "(ctx, conf) {\n  " + tt.body + "\n}"
			instance := mustBind(t, source, "")
			ex := newExchange()

			mustRun(t, instance, tt.phase, ex)

			if got := tt.field(ex); got != tt.want {
				t.Errorf("after %s: got %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func exitString(exit *Exit) string {
	if exit == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%d %s", exit.Status, exit.Body)
}

// TestContextErrors checks that invalid calls fail the hook with a clear
// error instead of changing the exchange.
func TestContextErrors(t *testing.T) {
	tests := []struct {
		name    string
		phase   Phase
		body    string
		wantErr string
	}{
		{"header name with space", PhaseAccess, `ctx.req.set_header("X Bad", "v")`, `invalid header name "X Bad"`},
		{"empty header name", PhaseAccess, `ctx.resp.set_header("", "v")`, `invalid header name ""`},
		{"header value with newline", PhaseAccess, `ctx.req.set_header("X-A", "v\r\nX-Injected: 1")`, `invalid value for header "X-A"`},
		{"header value not a string", PhaseAccess, `ctx.req.set_header("X-A", 5)`, "expected a string"},
		{"header without arguments", PhaseAccess, `ctx.req.header()`, "takes exactly 1 argument"},
		{"set_path outside rewrite", PhaseAccess, `ctx.req.set_path("/x")`, `rewrite and before_proxy phases only, not in "access"`},
		{"set_path relative", PhaseRewrite, `ctx.req.set_path("x")`, `invalid path "x"`},
		{"set_path with query", PhaseRewrite, `ctx.req.set_path("/x?y=1")`, `invalid path "/x?y=1"`},
		{"exit status out of range", PhaseAccess, `ctx.exit(42, "")`, "invalid status 42, expected 200 to 599"},
		{"exit body not a string", PhaseAccess, `ctx.exit(403, 1)`, "expected a string"},
		{"assign request attribute", PhaseAccess, `ctx.req.path = "/x"`, `cannot set attribute "path" on ctx.req`},
		{"unknown attribute", PhaseAccess, `x := ctx.req.cookies`, `attribute "cookies" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func " + string(tt.phase) + "(ctx, conf) {\n  " + tt.body + "\n}"
			instance := mustBind(t, source, "")
			ex := newExchange()

			err := instance.Run(context.Background(), tt.phase, ex)

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run() error = %v, want it to contain %q", err, tt.wantErr)
			}
			if ex.Exit != nil {
				t.Errorf("Exit = %+v, want nil", ex.Exit)
			}
			if ex.Request.Path != "/items" {
				t.Errorf("Request.Path = %q, want it unchanged", ex.Request.Path)
			}
		})
	}
}

// TestStoredContextRejected checks that a plugin cannot keep ctx in a
// global for a later call: functions may not assign globals at all.
func TestStoredContextRejected(t *testing.T) {
	source := `
saved := nil
func access(ctx, conf) {
  if saved != nil {
    saved.req.set_header("X-Leak", "1")
  }
  saved = ctx
}`

	_, err := Compile("test", "1.0.0", source)

	if err == nil || !strings.Contains(err.Error(), `assigns the global "saved"`) {
		t.Errorf("Compile() error = %v, want it to name the assigned global", err)
	}
}
