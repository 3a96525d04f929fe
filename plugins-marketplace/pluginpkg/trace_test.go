package pluginpkg

import (
	"context"
	"encoding/json"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

func compileStep(t *testing.T, binding, name, source, config string) TraceStep {
	t.Helper()
	plugin, err := pluginhost.Compile(name, "1.0.0", source)
	if err != nil {
		t.Fatalf("Compile(%s) error = %v", name, err)
	}
	return TraceStep{Binding: binding, Plugin: plugin, Config: json.RawMessage(config)}
}

func TestTraceChainRecordsEffects(t *testing.T) {
	steps := []TraceStep{
		compileStep(t, "b1", "tag", "func rewrite(ctx, conf) {\n  ctx.req.set_header(\"X-Tag\", conf.tag)\n}\n", `{"tag":"blue"}`),
		compileStep(t, "b2", "move", "func before_proxy(ctx, conf) {\n  ctx.req.set_path(\"/v2\" + ctx.req.path)\n}\n", `{}`),
		compileStep(t, "b3", "quiet", "func access(ctx, conf) {}\n", `{}`),
	}

	trace, err := TraceChain(context.Background(), steps, VectorRequest{Path: "/a", Query: "x=1"}, 0)
	if err != nil {
		t.Fatalf("TraceChain() error = %v", err)
	}
	if len(trace.Effects) != 2 {
		t.Fatalf("effects = %+v, want the tag and the move, without the plugin that changed nothing", trace.Effects)
	}
	if trace.Effects[0].HeadersSet["X-Tag"] != "blue" || trace.Effects[0].Phase != "rewrite" {
		t.Errorf("first effect = %+v, want X-Tag set in rewrite", trace.Effects[0])
	}
	if trace.Effects[1].PathFrom != "/a" || trace.Effects[1].PathTo != "/v2/a" {
		t.Errorf("second effect = %+v, want /a rewritten to /v2/a", trace.Effects[1])
	}
	if trace.Upstream == nil || trace.Upstream.Path != "/v2/a" || trace.Upstream.Query != "x=1" || trace.Upstream.Method != "GET" {
		t.Errorf("upstream = %+v, want GET /v2/a?x=1", trace.Upstream)
	}
}

func TestTraceChainStopsAtExit(t *testing.T) {
	steps := []TraceStep{
		compileStep(t, "b1", "deny", "func access(ctx, conf) {\n  ctx.exit(403, \"no\")\n}\n", `{}`),
		compileStep(t, "b2", "move", "func before_proxy(ctx, conf) {\n  ctx.req.set_path(\"/v2\")\n}\n", `{}`),
	}

	trace, err := TraceChain(context.Background(), steps, VectorRequest{}, 0)
	if err != nil {
		t.Fatalf("TraceChain() error = %v", err)
	}
	if trace.Upstream != nil {
		t.Errorf("upstream = %+v, want none after an exit", trace.Upstream)
	}
	if trace.Exit == nil || trace.Exit.Status != 403 || trace.Exit.Body != "no" {
		t.Errorf("exit = %+v, want 403 \"no\"", trace.Exit)
	}
	if len(trace.Effects) != 1 {
		t.Errorf("effects = %+v, want only the exit", trace.Effects)
	}
}

func TestTraceChainStopsAtHookError(t *testing.T) {
	steps := []TraceStep{compileStep(t, "b1", "broken", "func access(ctx, conf) {\n  ctx.req.set_header(\"X-A\", conf.missing)\n}\n", `{}`)}

	trace, err := TraceChain(context.Background(), steps, VectorRequest{}, 0)
	if err != nil {
		t.Fatalf("TraceChain() error = %v", err)
	}
	if trace.Upstream != nil || len(trace.Effects) != 1 || trace.Effects[0].Error == "" {
		t.Errorf("trace = %+v, want one failed effect and no upstream request", trace)
	}
}
