package sandbox

import (
	"os"
	"runtime/pprof"
	"testing"

	"portcullis.dev/plugins-marketplace/worker"
)

// TestMain makes the test binary a plugin worker when the pool starts it
// with the argument "worker", as "portcullis worker" is in production, and
// fake workers with "hung-worker", "racing-worker", "echo-worker" and
// "pong-worker". "profiled-worker FILE" is a worker that writes its CPU
// profile to FILE.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "worker":
			os.Exit(worker.Main(os.Args[2:], os.Stderr))
		case "hung-worker":
			os.Exit(fakeWorker(func() {}))
		case "racing-worker":
			os.Exit(fakeWorker(writeOneMapConcurrently))
		case "echo-worker":
			os.Exit(echoWorker())
		case "pong-worker":
			os.Exit(pongWorker())
		case "profiled-worker":
			os.Exit(profiledWorker(os.Args[2], os.Args[3:]))
		}
	}
	os.Exit(m.Run())
}

// fakeWorker loads binding sets as a worker does, with an access hook for
// every binding, and calls onCall for each call without replying to it.
// With an empty onCall it is a worker stuck in a runaway garbage
// collection.
func fakeWorker(onCall func()) int {
	socket, err := worker.NewSocket(3, "edge-socket")
	if err != nil {
		return 2
	}
	conn := worker.NewConn(socket)
	for {
		f, err := conn.Receive()
		if err != nil {
			return 0
		}
		if f.Kind == worker.KindCall {
			onCall()
		}
		if f.Kind != worker.KindLoad {
			continue
		}
		hooks := make([]uint8, len(f.Load.Bindings))
		for i := range hooks {
			hooks[i] = 1 << 1
		}
		if err := conn.Send(&worker.Frame{Kind: worker.KindLoaded, ID: f.ID, Loaded: &worker.Loaded{Hooks: hooks}}); err != nil {
			return 1
		}
	}
}

// writeOneMapConcurrently writes one map from two goroutines until the Go
// runtime ends the process with "fatal error: concurrent map writes", the
// failure of two requests that write one shared Risor map. Risor code
// cannot share a map across calls, because pluginhost.Compile rejects
// mutable globals, so this fake takes its place.
func writeOneMapConcurrently() {
	shared := map[int]int{}
	for range 2 {
		go func() {
			for i := 0; ; i++ {
				shared[i%64] = i
			}
		}()
	}
	select {}
}

// echoWorker loads binding sets as fakeWorker does and replies to each
// call at once with the call's exchange and an outcome of success for each
// step, so a benchmark measures the protocol's cost without the hooks.
func echoWorker() int {
	socket, err := worker.NewSocket(3, "edge-socket")
	if err != nil {
		return 2
	}
	conn := worker.NewConn(socket)
	for {
		f, err := conn.Receive()
		if err != nil {
			return 0
		}
		var reply *worker.Frame
		switch f.Kind {
		case worker.KindLoad:
			hooks := make([]uint8, len(f.Load.Bindings))
			for i := range hooks {
				hooks[i] = 1 << 1
			}
			reply = &worker.Frame{Kind: worker.KindLoaded, ID: f.ID, Loaded: &worker.Loaded{Hooks: hooks}}
		case worker.KindCall:
			outcomes := make([]worker.Outcome, len(f.Call.Steps))
			for i := range outcomes {
				outcomes[i].Ran = true
			}
			reply = &worker.Frame{Kind: worker.KindResult, ID: f.ID, Result: &worker.Result{Exchange: f.Call.Exchange, Steps: outcomes}}
		default:
			continue
		}
		if err := conn.Send(reply); err != nil {
			return 1
		}
	}
}

// pongWorker writes back each byte that it reads on its socket.
func pongWorker() int {
	socket, err := worker.NewSocket(3, "edge-socket")
	if err != nil {
		return 2
	}
	var b [1]byte
	for {
		if _, err := socket.Read(b[:]); err != nil {
			return 0
		}
		if _, err := socket.Write(b[:]); err != nil {
			return 1
		}
	}
}

// profiledWorker runs a worker with args and writes its CPU profile to
// path when the edge closes the connection.
func profiledWorker(path string, args []string) int {
	file, err := os.Create(path)
	if err != nil {
		return 2
	}
	defer file.Close()
	if err := pprof.StartCPUProfile(file); err != nil {
		return 2
	}
	defer pprof.StopCPUProfile()
	return worker.Main(args, os.Stderr)
}
