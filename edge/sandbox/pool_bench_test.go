package sandbox

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// BenchmarkPoolRunBatch measures one access phase of 5 light plugins in a
// worker: one round trip over the worker's socket. The echo form runs the
// same call in a worker that replies without running the hooks, so it
// shows the cost of the protocol and the two process switches alone. The
// parallel forms run parallelCallers calls at once on the one worker and
// report the time per call. With
// SANDBOX_WORKER_CPUPROFILE=FILE the hooks form writes the worker's CPU
// profile to FILE.
func BenchmarkPoolRunBatch(b *testing.B) {
	b.Run("hooks", func(b *testing.B) { benchmarkRunBatch(b, "worker") })
	b.Run("echo", func(b *testing.B) { benchmarkRunBatch(b, "echo-worker") })
	b.Run("hooks-parallel", func(b *testing.B) { benchmarkRunBatchParallel(b, "worker") })
	b.Run("echo-parallel", func(b *testing.B) { benchmarkRunBatchParallel(b, "echo-worker") })
}

// parallelCallers is the number of concurrent calls of the parallel forms
// of BenchmarkPoolRunBatch, as many as the concurrent requests of
// BenchmarkEdgeTiers/parallel in package edge.
const parallelCallers = 8

// workerProfileEnv names the environment variable that makes
// BenchmarkPoolRunBatch/hooks write the worker's CPU profile to the file
// it names.
const workerProfileEnv = "SANDBOX_WORKER_CPUPROFILE"

func benchmarkRunBatch(b *testing.B, command string) {
	c := loadBatchChain(b, command)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Run(context.Background(), pluginhost.PhaseAccess, exchange()); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkRunBatchParallel(b *testing.B, command string) {
	c := loadBatchChain(b, command)
	b.ReportAllocs()
	b.SetParallelism((parallelCallers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Run(context.Background(), pluginhost.PhaseAccess, exchange()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// loadBatchChain starts a worker with command, loads 5 light plugins into
// it and returns a chain of the 5.
func loadBatchChain(b *testing.B, command string) *chain.Chain {
	pool, _ := newPool(b, Config{})
	pool.cfg.Command[1] = command
	if path := os.Getenv(workerProfileEnv); path != "" && command == "worker" {
		pool.cfg.Command = []string{pool.cfg.Command[0], "profiled-worker", path}
	}
	bindings := make([]worker.Binding, 5)
	for i := range bindings {
		bindings[i] = testBinding(fmt.Sprintf("p%d", i), markSource)
	}
	set, err := pool.Load("acme", bindings)
	if err != nil {
		b.Fatal(err)
	}
	steps := make([]chain.Step, len(bindings))
	for i := range steps {
		steps[i] = chain.Step{Binding: bindings[i].ID, Plugin: bindings[i].Plugin, Version: "1.0.0", Remote: set.Step(i)}
	}
	return chain.New(steps)
}

// BenchmarkProcessPingPong measures a one-byte round trip between the edge
// and a worker process over their socket pair: the floor of a call's
// latency, set by two process switches.
func BenchmarkProcessPingPong(b *testing.B) {
	executable, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := Config{Command: []string{executable, "pong-worker"}, Dir: b.TempDir()}.withDefaults()
	if err != nil {
		b.Fatal(err)
	}
	proc, socket, err := startProcess(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = socket.Close()
		<-proc.exited
	})

	var buf [1]byte
	for b.Loop() {
		if _, err := socket.Write(buf[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := socket.Read(buf[:]); err != nil {
			b.Fatal(err)
		}
	}
}
