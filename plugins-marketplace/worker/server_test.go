package worker

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// serve starts Serve on one end of a pipe and returns the other end.
func serve(t *testing.T) *Conn {
	t.Helper()
	edge, worker := pipe(t)
	go func() { _ = Serve(worker) }()
	return edge
}

const kvSource = `func access(ctx, conf) {
	ctx.req.set_header("X-Count", string(ctx.kv.incr("n", 1)))
}

func header_filter(ctx, conf) {
	ctx.resp.buffer_body()
}
`

func TestServeLoadCallAndHostCall(t *testing.T) {
	edge := serve(t)
	load := &Load{Set: 1, Tenant: "acme", Bindings: []Binding{{ID: "b", Plugin: "kv", Version: "1.0.0", Source: kvSource}}}
	if err := edge.Send(&Frame{Kind: KindLoad, ID: 1, Load: load}); err != nil {
		t.Fatal(err)
	}
	loaded, err := edge.Receive()
	if err != nil {
		t.Fatal(err)
	}
	// Bit 1 is access and bit 3 is header_filter, in pluginhost.Phases order.
	if loaded.Kind != KindLoaded || loaded.Loaded.Err != "" || loaded.Loaded.Hooks[0] != 1<<1|1<<3 {
		t.Fatalf("loaded = %+v, want hooks access and header_filter", loaded.Loaded)
	}

	call := &Call{Set: 1, Phase: pluginhost.PhaseAccess, Steps: []Step{{Index: 0}}, Exchange: Exchange{Request: pluginhost.Request{Path: "/", Header: http.Header{}}}}
	if err := edge.Send(&Frame{Kind: KindCall, ID: 2, Call: call}); err != nil {
		t.Fatal(err)
	}
	hostCall, err := edge.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if hostCall.Kind != KindHostCall || hostCall.HostCall.Call != 2 || hostCall.HostCall.Method != MethodKVIncr || hostCall.HostCall.Key != "n" {
		t.Fatalf("host call = %+v, want kv.incr of n for call 2", hostCall.HostCall)
	}
	if err := edge.Send(&Frame{Kind: KindHostReply, ID: hostCall.ID, HostReply: &HostReply{Int: 41}}); err != nil {
		t.Fatal(err)
	}

	result, err := edge.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if result.Kind != KindResult || result.ID != 2 || !result.Result.Steps[0].Ran || result.Result.Steps[0].Err != "" {
		t.Fatalf("result = %+v, want one step that ran", result.Result)
	}
	if got := result.Result.Exchange.Request.Header.Get("X-Count"); got != "41" {
		t.Errorf("X-Count = %q, want %q", got, "41")
	}
}

func TestServeCallOutcomes(t *testing.T) {
	edge := serve(t)
	bindings := []Binding{
		{ID: "fail", Plugin: "fail", Version: "1.0.0", Source: `func access(ctx, conf) { error("down") }`},
		{ID: "deny", Plugin: "deny", Version: "1.0.0", Source: `func access(ctx, conf) { ctx.exit(403, "no") }`},
		{ID: "late", Plugin: "late", Version: "1.0.0", Source: `func access(ctx, conf) { ctx.req.set_header("X-Late", "1") }`},
	}
	if err := edge.Send(&Frame{Kind: KindLoad, ID: 1, Load: &Load{Set: 1, Tenant: "acme", Bindings: bindings}}); err != nil {
		t.Fatal(err)
	}
	if _, err := edge.Receive(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		steps []Step
		want  []Outcome
		exit  int
	}{
		{"fail closed stops", []Step{{Index: 0}, {Index: 2}}, []Outcome{{Ran: true, Err: "down"}, {}}, 0},
		{"fail open goes on", []Step{{Index: 0, FailOpen: true}, {Index: 1}, {Index: 2}}, []Outcome{{Ran: true, Err: "down"}, {Ran: true}, {}}, 403},
		{"quarantined fails", []Step{{Index: 2, Quarantined: true}}, []Outcome{{Ran: true, Err: "quarantined"}}, 0},
		{"unknown set", nil, nil, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := uint64(1)
			steps := tt.steps
			if steps == nil {
				set, steps = 9, []Step{{Index: 0}}
				tt.want = []Outcome{{Ran: true, Err: "not loaded"}}
			}
			call := &Call{Set: set, Phase: pluginhost.PhaseAccess, Steps: steps, Exchange: Exchange{Request: pluginhost.Request{Path: "/"}}}
			if err := edge.Send(&Frame{Kind: KindCall, ID: uint64(10 + i), Call: call}); err != nil {
				t.Fatal(err)
			}
			result, err := edge.Receive()
			if err != nil {
				t.Fatal(err)
			}
			for j, want := range tt.want {
				got := result.Result.Steps[j]
				if got.Ran != want.Ran || !strings.Contains(got.Err, want.Err) || (want.Err == "" && got.Err != "") {
					t.Errorf("step %d outcome = %+v, want %+v", j, got, want)
				}
				// A step of a set that is not loaded or a quarantined one
				// ran no hook, and may take no time.
				ranHook := got.Ran && !strings.Contains(got.Err, "not loaded") && !strings.Contains(got.Err, "quarantined")
				if ranHook && got.Elapsed <= 0 {
					t.Errorf("step %d ran its hook in %s, want a positive time", j, got.Elapsed)
				}
				if !got.Ran && got.Elapsed != 0 {
					t.Errorf("step %d did not run but took %s, want 0", j, got.Elapsed)
				}
			}
			exit := result.Result.Exchange.Exit
			if (exit == nil) != (tt.exit == 0) || (exit != nil && exit.Status != tt.exit) {
				t.Errorf("exit = %+v, want status %d", exit, tt.exit)
			}
		})
	}
}

const spinSource = `func access(ctx, conf) {
	for {
	}
}
`

const quickSource = `func access(ctx, conf) {
	ctx.req.set_header("X-Quick", "1")
}
`

// TestServeSlowCallHandsOffReading checks that a call that runs past
// inlineLimit lets a later call finish first, and that Serve still
// returns when the connection closes after the reading moved to another
// goroutine.
func TestServeSlowCallHandsOffReading(t *testing.T) {
	edge, worker := pipe(t)
	served := make(chan error, 1)
	go func() { served <- Serve(worker) }()

	load := &Load{Set: 1, Tenant: "acme", Bindings: []Binding{
		{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource},
		{ID: "quick", Plugin: "quick", Version: "1.0.0", Source: quickSource},
	}}
	if err := edge.Send(&Frame{Kind: KindLoad, ID: 1, Load: load}); err != nil {
		t.Fatal(err)
	}
	if loaded, err := edge.Receive(); err != nil || loaded.Loaded.Err != "" {
		t.Fatalf("load: %v %+v", err, loaded)
	}

	view := Exchange{Request: pluginhost.Request{Path: "/", Header: http.Header{}}}
	slow := &Call{Set: 1, Phase: pluginhost.PhaseAccess, Steps: []Step{{Index: 0, Timeout: 500 * time.Millisecond}}, Exchange: view}
	quick := &Call{Set: 1, Phase: pluginhost.PhaseAccess, Steps: []Step{{Index: 1, Timeout: 500 * time.Millisecond}}, Exchange: view}
	// The pipe does not buffer, so the calls go from another goroutine: a
	// worker that never hands the reading on would block on them.
	go func() {
		_ = edge.Send(&Frame{Kind: KindCall, ID: 2, Call: slow})
		_ = edge.Send(&Frame{Kind: KindCall, ID: 3, Call: quick})
	}()

	first := receiveWithin(t, edge)
	if first.ID != 3 || first.Result.Exchange.Request.Header.Get("X-Quick") != "1" {
		t.Fatalf("first result is of call %d, want the quick call 3 with X-Quick set", first.ID)
	}
	second := receiveWithin(t, edge)
	if second.ID != 2 || !second.Result.Steps[0].Deadline {
		t.Fatalf("second result = call %d %+v, want call 2 past its deadline", second.ID, second.Result.Steps[0])
	}

	_ = edge.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the edge closed the connection")
	}
}

// TestServeReusesReadingGoroutines checks that calls that each wait for a
// host call hand the reading to the goroutine of an earlier call instead
// of starting a new goroutine every time.
func TestServeReusesReadingGoroutines(t *testing.T) {
	edge, worker := pipe(t)
	s := newServer(worker)
	go func() { _ = s.serve() }()

	load := &Load{Set: 1, Tenant: "acme", Bindings: []Binding{{ID: "b", Plugin: "kv", Version: "1.0.0", Source: kvSource}}}
	if err := edge.Send(&Frame{Kind: KindLoad, ID: 1, Load: load}); err != nil {
		t.Fatal(err)
	}
	if loaded := receiveWithin(t, edge); loaded.Loaded.Err != "" {
		t.Fatalf("load: %s", loaded.Loaded.Err)
	}

	const calls = 20
	for i := range calls {
		id := uint64(10 + i)
		call := &Call{Set: 1, Phase: pluginhost.PhaseAccess, Steps: []Step{{Index: 0}}, Exchange: Exchange{Request: pluginhost.Request{Path: "/", Header: http.Header{}}}}
		if err := edge.Send(&Frame{Kind: KindCall, ID: id, Call: call}); err != nil {
			t.Fatal(err)
		}
		hostCall := receiveWithin(t, edge)
		if hostCall.Kind != KindHostCall {
			t.Fatalf("call %d: got frame kind %d, want a host call", id, hostCall.Kind)
		}
		if err := edge.Send(&Frame{Kind: KindHostReply, ID: hostCall.ID, HostReply: &HostReply{Int: int64(i)}}); err != nil {
			t.Fatal(err)
		}
		if result := receiveWithin(t, edge); result.Kind != KindResult || result.ID != id {
			t.Fatalf("got frame kind %d id %d, want the result of call %d", result.Kind, result.ID, id)
		}
		// The goroutine that ran the call sends its result before it
		// waits to read again. A call sent in between finds no goroutine
		// waiting and rightly starts one.
		awaitWaitingReader(t, s)
	}

	if started := s.readersStarted.Load(); started != 1 {
		t.Errorf("%d calls started %d reading goroutines, want 1", calls, started)
	}
}

// awaitWaitingReader waits until one goroutine of s waits to read again.
func awaitWaitingReader(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.waitingReaders() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines wait to read, want 1", s.waitingReaders())
		}
		time.Sleep(time.Millisecond)
	}
}

// logSource logs a line and then sets a header, so its Result shows that
// the hook went on after the log.
const logSource = `func access(ctx, conf) {
	ctx.log.info("seen", {"path": ctx.req.path})
	ctx.req.set_header("X-Logged", "yes")
}
`

func TestServeLogNeedsNoReply(t *testing.T) {
	edge, frames, _ := serveWithSet(t, []Binding{{ID: "log", Plugin: "log", Version: "1.0.0", Source: logSource}})
	sendAsync(edge, &Frame{Kind: KindCall, ID: 7, Call: accessCall(1, "/a", Step{Index: 0, Timeout: 5 * time.Second})})

	// The test sends no HostReply: a worker that waits for one sends no
	// Result until the step's deadline.
	logged := nextFrame(t, frames, 2*time.Second)
	if logged.Kind != KindHostCall || logged.HostCall.Method != MethodLog {
		t.Fatalf("first frame = %+v, want the log host call", logged)
	}
	if logged.HostCall.Call != 7 || logged.HostCall.Message != "seen" || logged.HostCall.Fields["path"] != "/a" {
		t.Errorf("log host call = %+v, want call 7, message %q and the path field", logged.HostCall, "seen")
	}

	result := nextFrame(t, frames, 2*time.Second)
	if result.Kind != KindResult || result.ID != 7 {
		t.Fatalf("second frame = %+v, want the Result of call 7", result)
	}
	if got := result.Result.Exchange.Request.Header.Get("X-Logged"); got != "yes" {
		t.Errorf("X-Logged = %q, want %q: the hook did not go on after the log", got, "yes")
	}
}
