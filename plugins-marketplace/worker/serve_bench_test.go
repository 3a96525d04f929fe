package worker

import (
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// BenchmarkServeCall measures one call of 5 light access hooks through
// Serve over a Unix socket pair inside one process, so it shows the cost
// of the protocol and the hooks without a process switch.
func BenchmarkServeCall(b *testing.B) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	edgeSocket, err := net.FileConn(os.NewFile(uintptr(fds[0]), "edge"))
	if err != nil {
		b.Fatal(err)
	}
	workerSocket, err := net.FileConn(os.NewFile(uintptr(fds[1]), "worker"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = edgeSocket.Close()
		_ = workerSocket.Close()
	})
	go func() { _ = Serve(NewConn(workerSocket)) }()
	edge := NewConn(edgeSocket)

	source := `func access(ctx, conf) { ctx.req.set_header("X-Mark", conf["mark"]) }`
	load := &Load{Set: 1, Tenant: "acme"}
	steps := make([]Step, 5)
	for i := range steps {
		load.Bindings = append(load.Bindings, Binding{ID: string(rune('a' + i)), Plugin: "mark", Version: "1.0.0", Source: source, Config: []byte(`{"mark":"m"}`)})
		steps[i] = Step{Index: i, Timeout: 50_000_000}
	}
	if err := edge.Send(&Frame{Kind: KindLoad, ID: 1, Load: load}); err != nil {
		b.Fatal(err)
	}
	if _, err := edge.Receive(); err != nil {
		b.Fatal(err)
	}

	header := http.Header{"User-Agent": {"bench"}, "Accept": {"*/*"}}
	b.ReportAllocs()
	id := uint64(1)
	for b.Loop() {
		id++
		call := &Call{Set: 1, Phase: pluginhost.PhaseAccess, Steps: steps, Exchange: Exchange{Request: pluginhost.Request{Method: "GET", Path: "/", Header: header.Clone()}}}
		if err := edge.Send(&Frame{Kind: KindCall, ID: id, Call: call}); err != nil {
			b.Fatal(err)
		}
		result, err := edge.Receive()
		if err != nil || result.Result.Steps[4].Err != "" {
			b.Fatalf("result %+v, error %v", result, err)
		}
	}
}
