package pluginhost

import (
	"context"
	"testing"
	"time"
)

// lightSource is a typical small access hook: one header read, one
// comparison, one header set from config.
const lightSource = `
func access(ctx, conf) {
  if ctx.req.header("X-Api-Key") == "" {
    ctx.exit(401, "missing API key")
  }
  ctx.req.set_header(conf.header, conf.value)
}`

const lightConfig = `{"header": "X-Team", "value": "payments"}`

func newLightExchange() *Exchange {
	ex := newExchange()
	ex.Request.Header.Set("X-Api-Key", "k1")
	return ex
}

// BenchmarkRun measures one hook call with a light plugin, including the
// per-call copy of conf and the pool round trip, under contexts without and
// with cancellation, and with a binding timeout. "watched" is a cancelable
// context under WatchHooks, as the edge's chain runs hooks.
func BenchmarkRun(b *testing.B) {
	instance := mustBind(b, lightSource, lightConfig)
	deadline, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()

	cancelable, cancelRequest := context.WithCancel(context.Background())
	defer cancelRequest()
	watched, stop := WatchHooks(cancelable)
	defer stop()

	contexts := []struct {
		name    string
		ctx     context.Context
		timeout time.Duration
	}{
		{"background", context.Background(), 0},
		{"deadline", deadline, 0},
		{"cancelable", cancelable, 0},
		{"timeout", context.Background(), time.Hour},
		{"cancelable+timeout", cancelable, time.Hour},
		{"watched+timeout", watched, time.Hour},
	}
	for _, tc := range contexts {
		b.Run(tc.name, func(b *testing.B) {
			ex := newLightExchange()
			b.ReportAllocs()

			for b.Loop() {
				if err := instance.RunWithTimeout(tc.ctx, tc.timeout, PhaseAccess, ex); err != nil {
					b.Fatalf("RunWithTimeout() error = %v", err)
				}
			}
		})
	}
}

// BenchmarkRunParallel measures the same call from GOMAXPROCS goroutines on
// one Instance.
func BenchmarkRunParallel(b *testing.B) {
	instance := mustBind(b, lightSource, lightConfig)
	b.ReportAllocs()

	b.RunParallel(func(pb *testing.PB) {
		ex := newLightExchange()
		for pb.Next() {
			if err := instance.Run(context.Background(), PhaseAccess, ex); err != nil {
				b.Errorf("Run() error = %v", err)
				return
			}
		}
	})
}

// BenchmarkPrepareVM measures what a pool miss costs: creating a VM and
// running the plugin's top-level code on it.
func BenchmarkPrepareVM(b *testing.B) {
	p := mustCompile(b, lightSource)
	b.ReportAllocs()

	for b.Loop() {
		pvm, err := newPreparedVM(context.Background(), p)
		if err != nil {
			b.Fatalf("newPreparedVM() error = %v", err)
		}
		pvm.retire()
	}
}
