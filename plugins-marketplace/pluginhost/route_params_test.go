package pluginhost

import "testing"

func TestRequestParam(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		expr   string
		want   string
	}{
		{name: "present", params: map[string]string{"id": "42"}, expr: `ctx.req.param("id")`, want: "42"},
		{name: "decoded value", params: map[string]string{"path": "a/b c"}, expr: `ctx.req.param("path")`, want: "a/b c"},
		{name: "absent name", params: map[string]string{"id": "42"}, expr: `"[" + ctx.req.param("other") + "]"`, want: "[]"},
		{name: "no params", params: nil, expr: `"[" + ctx.req.param("id") + "]"`, want: "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func access(ctx, conf) {\n  ctx.resp.set_header(\"X-Got\", " + tt.expr + ")\n}"
			instance := mustBind(t, source, "")
			ex := newExchange()
			ex.Request.Params = tt.params

			mustRun(t, instance, PhaseAccess, ex)

			if got := ex.Response.Header.Get("X-Got"); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

func TestRequestParamArguments(t *testing.T) {
	source := "func access(ctx, conf) {\n  ctx.req.param()\n}"
	instance := mustBind(t, source, "")

	err := instance.Run(t.Context(), PhaseAccess, newExchange())
	if err == nil {
		t.Fatal("ctx.req.param() without a name succeeded, want an error")
	}
}
