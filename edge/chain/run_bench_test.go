package chain

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"portcullis.dev/edge/metrics"
	"portcullis.dev/plugins-marketplace/pluginhost"
)

// BenchmarkRunInProcess measures the rewrite phase of 5 guarded in-process
// steps that each set one header: the trusted tier's hot path.
func BenchmarkRunInProcess(b *testing.B) {
	supervisor := NewSupervisor(nil)
	steps := make([]Step, 5)
	for i := range steps {
		steps[i] = benchStep(b, "light-"+strconv.Itoa(i))
		steps[i].Guard = supervisor.Guard("acme", steps[i], 50*time.Millisecond, false)
	}
	c := New(steps)
	request := httptest.NewRequest("GET", "/x", nil)

	b.ReportAllocs()
	for b.Loop() {
		ex := NewExchange(request)
		if err := c.RunRequest(context.Background(), ex); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunEdgeRequest measures the hook calls that the edge makes for one
// request on a route with 5 light in-process plugins: the request phases
// and header_filter. Each plugin sets one header in rewrite and one in
// header_filter. The hooks run under a cancelable request context, and the
// hook duration metric is recorded as the edge records it.
func BenchmarkRunEdgeRequest(b *testing.B) {
	recorder := metrics.New()
	supervisor := NewSupervisor(nil)
	supervisor.SetObserver(func(_ context.Context, call HookCall) {
		timer, ok := call.Memo.Load().(*metrics.PluginTimer)
		if !ok {
			timer = recorder.PluginTimer(call.Step.Plugin, call.Phase)
			call.Memo.Store(timer)
		}
		timer.Observe(call.Elapsed)
		recorder.PluginFailed(call.Tenant, call.Step.Plugin, call.Step.Version, call.Cause)
	})
	steps := make([]Step, 5)
	for i := range steps {
		steps[i] = benchEdgeStep(b, i)
		steps[i].Guard = supervisor.Guard("acme", steps[i], 50*time.Millisecond, false)
	}
	c := New(steps)
	request := httptest.NewRequest("GET", "/x", nil)

	b.ReportAllocs()
	for b.Loop() {
		requestCtx, cancel := context.WithCancel(context.Background())
		ctx, stop := c.WatchRequest(requestCtx)
		ex := NewExchange(request)
		if err := c.RunRequest(ctx, ex); err != nil {
			b.Fatal(err)
		}
		ex.Response = pluginhost.Response{Status: http.StatusOK, Header: http.Header{}}
		if err := c.Run(ctx, pluginhost.PhaseHeaderFilter, ex); err != nil {
			b.Fatal(err)
		}
		stop()
		cancel()
	}
}

func benchStep(b *testing.B, name string) Step {
	plugin, err := NewCompiler(0).Compile(code(name, "1.0.0", `func rewrite(ctx, conf) {
	ctx.req.set_header("X-`+name+`", "v1")
}`))
	if err != nil {
		b.Fatalf("compile %s: %v", name, err)
	}
	instance, err := plugin.Bind(nil)
	if err != nil {
		b.Fatalf("bind %s: %v", name, err)
	}
	return Step{Binding: "b-" + name, Plugin: name, Version: "1.0.0", Instance: instance}
}

// benchEdgeStep returns light plugin number index of the edge's benchmarks:
// it sets one request header from conf in rewrite and one response header
// in header_filter.
func benchEdgeStep(b *testing.B, index int) Step {
	name := "light-" + strconv.Itoa(index)
	header := "X-Light-" + strconv.Itoa(index)
	plugin, err := NewCompiler(0).Compile(code(name, "1.0.0", `func rewrite(ctx, conf) {
	ctx.req.set_header("`+header+`", conf["tag"])
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("`+header+`", "1.0.0/" + conf["tag"])
}`))
	if err != nil {
		b.Fatalf("compile %s: %v", name, err)
	}
	instance, err := plugin.Bind([]byte(`{"tag":"t0"}`))
	if err != nil {
		b.Fatalf("bind %s: %v", name, err)
	}
	return Step{Binding: "b-" + name, Plugin: name, Version: "1.0.0", Instance: instance}
}
