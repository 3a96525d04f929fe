package chain

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
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
