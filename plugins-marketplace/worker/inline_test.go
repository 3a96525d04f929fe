package worker

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// echoSource copies the request path into X-Echo, so a Result shows which
// Call's exchange it carries.
const echoSource = `func access(ctx, conf) {
	ctx.req.set_header("X-Echo", ctx.req.path)
}
`

// busySource loops a fixed count without host calls, which takes about
// inlineLimit, and leaves its VM fit to run again.
const busySource = `func access(ctx, conf) {
	n := 0
	for i := 0; i < 4000; i++ {
		n++
	}
}
`

// edgeReader reads every frame that the worker sends on edge into a
// channel, so the test can send while the worker writes on the unbuffered
// pipe. The channel closes when Receive fails.
func edgeReader(edge *Conn, size int) <-chan *Frame {
	frames := make(chan *Frame, size)
	go func() {
		defer close(frames)
		for {
			f, err := edge.Receive()
			if err != nil {
				return
			}
			frames <- f
		}
	}()
	return frames
}

// nextFrame returns the next frame from frames, failing the test when none
// arrives within wait or the connection ended.
func nextFrame(t *testing.T, frames <-chan *Frame, wait time.Duration) *Frame {
	t.Helper()
	select {
	case f, ok := <-frames:
		if !ok {
			t.Fatal("the connection ended before the next frame")
		}
		return f
	case <-time.After(wait):
		t.Fatalf("no frame within %s", wait)
		return nil
	}
}

// serveWithResult starts Serve on one end of a pipe and returns the other
// end and a channel that receives Serve's error.
func serveWithResult(t *testing.T) (*Conn, <-chan error) {
	t.Helper()
	edge, worker := pipe(t)
	served := make(chan error, 1)
	go func() { served <- Serve(worker) }()
	return edge, served
}

// loadSet sends a Load of bindings as set and waits for its Loaded reply.
func loadSet(t *testing.T, edge *Conn, frames <-chan *Frame, id, set uint64, bindings []Binding) {
	t.Helper()
	load := &Load{Set: set, Tenant: "acme", Bindings: bindings}
	if err := edge.Send(&Frame{Kind: KindLoad, ID: id, Load: load}); err != nil {
		t.Fatalf("send load: %v", err)
	}
	loaded := nextFrame(t, frames, 10*time.Second)
	if loaded.Kind != KindLoaded || loaded.ID != id || loaded.Loaded.Err != "" {
		t.Fatalf("frame = %+v, want a Loaded reply of frame %d without an error", loaded, id)
	}
}

// serveWithSet starts Serve as serveWithResult does, loads bindings as set
// 1, and returns the edge's end, the frames it receives and Serve's error.
func serveWithSet(t *testing.T, bindings []Binding) (*Conn, <-chan *Frame, <-chan error) {
	t.Helper()
	edge, served := serveWithResult(t)
	frames := edgeReader(edge, 16)
	loadSet(t, edge, frames, 1, 1, bindings)
	return edge, frames, served
}

// sendAsync sends each frame in order from another goroutine, because the
// pipe blocks a send until the worker reads it.
func sendAsync(edge *Conn, frames ...*Frame) {
	go func() {
		for _, f := range frames {
			if edge.Send(f) != nil {
				return
			}
		}
	}()
}

func accessCall(set uint64, path string, steps ...Step) *Call {
	view := Exchange{Request: pluginhost.Request{Path: path, Header: http.Header{}}}
	return &Call{Set: set, Phase: pluginhost.PhaseAccess, Steps: steps, Exchange: view}
}

// answerUntilResults reads frames until want Results arrived, within 20
// seconds. It passes each host call to onHostCall and replies with the
// id of its call, so a reply delivered to the wrong call shows in
// X-Count, and it passes each Result to onResult.
func answerUntilResults(t *testing.T, edge *Conn, frames <-chan *Frame, want int, onHostCall, onResult func(*Frame)) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for got := 0; got < want; {
		var f *Frame
		select {
		case next, ok := <-frames:
			if !ok {
				t.Fatalf("the connection ended after %d of %d results", got, want)
			}
			f = next
		case <-deadline:
			t.Fatalf("%d of %d results within 20 seconds", got, want)
		}

		switch f.Kind {
		case KindHostCall:
			onHostCall(f)
			sendAsync(edge, &Frame{Kind: KindHostReply, ID: f.ID, HostReply: &HostReply{Int: int64(f.HostCall.Call)}})
		case KindResult:
			got++
			onResult(f)
		default:
			t.Errorf("unexpected frame %+v", f)
		}
	}
}

// TestInlineConcurrentCallsKeepResults mixes quick calls, calls that run
// past inlineLimit and calls that make a host call, and checks that each
// Result arrives once, with its own id and its own exchange.
func TestInlineConcurrentCallsKeepResults(t *testing.T) {
	edge, served := serveWithResult(t)
	const calls = 90
	frames := edgeReader(edge, 4*calls)
	loadSet(t, edge, frames, 1, 1, []Binding{
		{ID: "echo", Plugin: "echo", Version: "1.0.0", Source: echoSource},
		{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource},
		{ID: "kv", Plugin: "kv", Version: "1.0.0", Source: kvSource},
	})

	const (
		quick = iota
		slow
		host
	)
	kinds := map[uint64]int{}
	var out []*Frame
	for i := range calls {
		id := uint64(100 + i)
		kind := i % 3
		kinds[id] = kind
		steps := []Step{{Index: 0}}
		switch kind {
		case slow:
			// The spin fails open at its deadline, so X-Echo stays set.
			steps = append(steps, Step{Index: 1, Timeout: 3 * time.Millisecond, FailOpen: true})
		case host:
			steps = append(steps, Step{Index: 2, Timeout: 5 * time.Second})
		}
		out = append(out, &Frame{Kind: KindCall, ID: id, Call: accessCall(1, fmt.Sprintf("/call/%d", id), steps...)})
	}
	sendAsync(edge, out...)

	results := map[uint64]bool{}
	hostCalls := map[uint64]bool{}
	onHostCall := func(f *Frame) {
		owner := f.HostCall.Call
		if kinds[owner] != host || results[owner] || hostCalls[owner] {
			t.Errorf("host call %d names call %d, which is no call waiting for its first host call", f.ID, owner)
		}
		hostCalls[owner] = true
	}
	onResult := func(f *Frame) {
		id := f.ID
		if _, ok := kinds[id]; !ok || results[id] {
			t.Errorf("result for call %d, which is unknown or already answered", id)
			return
		}
		results[id] = true
		header := f.Result.Exchange.Request.Header
		if got, want := header.Get("X-Echo"), fmt.Sprintf("/call/%d", id); got != want {
			t.Errorf("call %d: X-Echo = %q, want %q", id, got, want)
		}
		switch kinds[id] {
		case slow:
			if len(f.Result.Steps) != 2 || !f.Result.Steps[1].Deadline {
				t.Errorf("call %d: steps = %+v, want the spin step past its deadline", id, f.Result.Steps)
			}
		case host:
			if got := header.Get("X-Count"); got != strconv.FormatUint(id, 10) {
				t.Errorf("call %d: X-Count = %q, want the reply of its own host call %d", id, got, id)
			}
			if !hostCalls[id] {
				t.Errorf("call %d: result before its host call", id)
			}
		}
	}
	answerUntilResults(t, edge, frames, calls, onHostCall, onResult)

	_ = edge.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5 seconds after the edge closed the connection")
	}
}

// TestInlineCancelStopsSlowCall sends a Cancel for a call without a
// deadline that the reading goroutine runs, and for a call that waits for
// a host reply that never comes.
func TestInlineCancelStopsSlowCall(t *testing.T) {
	edge, frames, _ := serveWithSet(t, []Binding{
		{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource},
		{ID: "kv", Plugin: "kv", Version: "1.0.0", Source: kvSource},
	})

	sendAsync(edge,
		&Frame{Kind: KindCall, ID: 2, Call: accessCall(1, "/spin", Step{Index: 0})},
		&Frame{Kind: KindCancel, ID: 2},
	)
	result := nextFrame(t, frames, 5*time.Second)
	if result.Kind != KindResult || result.ID != 2 {
		t.Fatalf("frame = %+v, want the Result of call 2", result)
	}
	if err := result.Result.Steps[0].Err; !strings.Contains(err, "canceled") {
		t.Errorf("spin step error = %q, want a canceled hook", err)
	}

	sendAsync(edge, &Frame{Kind: KindCall, ID: 3, Call: accessCall(1, "/kv", Step{Index: 1})})
	hostCall := nextFrame(t, frames, 5*time.Second)
	if hostCall.Kind != KindHostCall || hostCall.HostCall.Call != 3 {
		t.Fatalf("frame = %+v, want a host call of call 3", hostCall)
	}
	sendAsync(edge, &Frame{Kind: KindCancel, ID: 3})
	result = nextFrame(t, frames, 5*time.Second)
	if result.Kind != KindResult || result.ID != 3 {
		t.Fatalf("frame = %+v, want the Result of call 3", result)
	}
	if err := result.Result.Steps[0].Err; !strings.Contains(err, "canceled") {
		t.Errorf("kv step error = %q, want a canceled host call", err)
	}
}

// TestInlineHostReplyPassesSlowCall checks that the reply to one call's
// host call reaches it while the reading goroutine runs a later slow call.
func TestInlineHostReplyPassesSlowCall(t *testing.T) {
	edge, frames, _ := serveWithSet(t, []Binding{
		{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource},
		{ID: "kv", Plugin: "kv", Version: "1.0.0", Source: kvSource},
	})

	sendAsync(edge, &Frame{Kind: KindCall, ID: 2, Call: accessCall(1, "/kv", Step{Index: 1})})
	hostCall := nextFrame(t, frames, 5*time.Second)
	if hostCall.Kind != KindHostCall || hostCall.HostCall.Call != 2 {
		t.Fatalf("frame = %+v, want a host call of call 2", hostCall)
	}
	sendAsync(edge,
		&Frame{Kind: KindCall, ID: 3, Call: accessCall(1, "/spin", Step{Index: 0, Timeout: 2 * time.Second})},
		&Frame{Kind: KindHostReply, ID: hostCall.ID, HostReply: &HostReply{Int: 7}},
	)

	first := nextFrame(t, frames, 5*time.Second)
	if first.Kind != KindResult || first.ID != 2 {
		t.Fatalf("first frame = %+v, want the Result of call 2 before the slow call 3", first)
	}
	if got := first.Result.Exchange.Request.Header.Get("X-Count"); got != "7" {
		t.Errorf("X-Count = %q, want %q", got, "7")
	}
	second := nextFrame(t, frames, 5*time.Second)
	if second.Kind != KindResult || second.ID != 3 || !second.Result.Steps[0].Deadline {
		t.Fatalf("second frame = %+v, want call 3 past its deadline", second)
	}
}

// TestInlineFramesPassSlowCall checks that Load, Verify, Unload and a
// quick call on the new set get their replies while an earlier call runs.
func TestInlineFramesPassSlowCall(t *testing.T) {
	edge, frames, _ := serveWithSet(t, []Binding{{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource}})

	slowCall := &Frame{Kind: KindCall, ID: 2, Call: accessCall(1, "/spin", Step{Index: 0, Timeout: 2 * time.Second})}
	load := &Load{Set: 2, Tenant: "acme", Bindings: []Binding{{ID: "echo", Plugin: "echo", Version: "1.0.0", Source: echoSource}}}
	verify := &Verify{Plugin: "guard", Version: "1.0.0", Source: guardSource}
	sendAsync(edge,
		slowCall,
		&Frame{Kind: KindLoad, ID: 3, Load: load},
		&Frame{Kind: KindVerify, ID: 4, Verify: verify},
		&Frame{Kind: KindUnload, Set: 1},
		&Frame{Kind: KindCall, ID: 5, Call: accessCall(2, "/echo", Step{Index: 0})},
	)

	loaded := nextFrame(t, frames, time.Second)
	if loaded.Kind != KindLoaded || loaded.ID != 3 || loaded.Loaded.Err != "" {
		t.Fatalf("first frame = %+v, want the Loaded reply of frame 3 before the slow call ends", loaded)
	}
	verified := nextFrame(t, frames, time.Second)
	if verified.Kind != KindVerified || verified.ID != 4 || verified.Verified.Failure() != nil {
		t.Fatalf("second frame = %+v, want a passing Verified reply of frame 4", verified)
	}
	quick := nextFrame(t, frames, time.Second)
	if quick.Kind != KindResult || quick.ID != 5 {
		t.Fatalf("third frame = %+v, want the Result of call 5", quick)
	}
	if got := quick.Result.Exchange.Request.Header.Get("X-Echo"); got != "/echo" {
		t.Errorf("call 5: X-Echo = %q, want %q", got, "/echo")
	}

	// The Unload came after the slow call started, which keeps its set.
	slow := nextFrame(t, frames, 5*time.Second)
	if slow.Kind != KindResult || slow.ID != 2 || !slow.Result.Steps[0].Deadline {
		t.Fatalf("last frame = %+v, want call 2 past its deadline", slow)
	}
}

// TestInlineErrorAfterHandOff sends an invalid frame after a
// slow call handed the reading on, and checks that Serve returns the
// error of that frame.
func TestInlineErrorAfterHandOff(t *testing.T) {
	edge, _, served := serveWithSet(t, []Binding{{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource}})

	sendAsync(edge,
		&Frame{Kind: KindCall, ID: 2, Call: accessCall(1, "/spin", Step{Index: 0, Timeout: 300 * time.Millisecond})},
		&Frame{Kind: KindLoad, ID: 3},
	)
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "load frame without a load") {
			t.Errorf("Serve returned %v, want the error of the Load frame without a load", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5 seconds after an invalid frame")
	}
}

// TestInlineCloseWhileHandedCallRuns closes the connection while a call
// that the second reading goroutine runs is still running.
func TestInlineCloseWhileHandedCallRuns(t *testing.T) {
	edge, frames, served := serveWithSet(t, []Binding{{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource}})

	// Call 2 runs on the first reading goroutine and hands the reading
	// on, and call 3 runs on the goroutine that reads next.
	sendAsync(edge,
		&Frame{Kind: KindCall, ID: 2, Call: accessCall(1, "/short", Step{Index: 0, Timeout: 50 * time.Millisecond})},
		&Frame{Kind: KindCall, ID: 3, Call: accessCall(1, "/long", Step{Index: 0, Timeout: 3 * time.Second})},
	)
	short := nextFrame(t, frames, 5*time.Second)
	if short.Kind != KindResult || short.ID != 2 {
		t.Fatalf("frame = %+v, want the Result of call 2", short)
	}

	_ = edge.Close()
	select {
	case err := <-served:
		if err == nil {
			t.Error("Serve returned nil, want the error that ended the connection")
		}
	case <-time.After(time.Second):
		t.Fatal("Serve did not return within 1 second after the edge closed the connection")
	}
}

// TestInlineCloseDuringSlowCall closes the connection while the first
// call runs far past inlineLimit on the first reading goroutine. Serve
// must return at once.
func TestInlineCloseDuringSlowCall(t *testing.T) {
	edge, _, served := serveWithSet(t, []Binding{{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource}})

	sendAsync(edge, &Frame{Kind: KindCall, ID: 2, Call: accessCall(1, "/spin", Step{Index: 0, Timeout: 3 * time.Second})})
	// Give the call time to start and hand the reading on.
	time.Sleep(100 * time.Millisecond)
	closed := time.Now()
	_ = edge.Close()

	select {
	case <-served:
	case <-time.After(time.Second):
		t.Error("Serve did not return within 1 second after the edge closed the connection")
		// Wait for the hook deadline, so the spinning call does not take
		// a CPU from the next test.
		select {
		case <-served:
			t.Logf("Serve returned %s after the close", time.Since(closed).Round(time.Millisecond))
		case <-time.After(5 * time.Second):
		}
	}
}

// TestInlineCloseDuringHostCall closes the connection while the first
// call waits for the reply to its host call.
func TestInlineCloseDuringHostCall(t *testing.T) {
	edge, frames, served := serveWithSet(t, []Binding{{ID: "kv", Plugin: "kv", Version: "1.0.0", Source: kvSource}})

	sendAsync(edge, &Frame{Kind: KindCall, ID: 2, Call: accessCall(1, "/kv", Step{Index: 0, Timeout: time.Second})})
	hostCall := nextFrame(t, frames, 5*time.Second)
	if hostCall.Kind != KindHostCall || hostCall.HostCall.Call != 2 {
		t.Fatalf("frame = %+v, want a host call of call 2", hostCall)
	}
	_ = edge.Close()

	select {
	case err := <-served:
		if err == nil {
			t.Error("Serve returned nil, want the error that ended the connection")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return within 3 seconds after the edge closed the connection during a host call")
	}
}

// TestInlineCallsAtInlineLimit runs many calls whose hooks take about
// inlineLimit, so the slow timer fires while calls finish and the next
// reader starts its own call. Two goroutines that read at once would
// garble frames or trip the race detector.
func TestInlineCallsAtInlineLimit(t *testing.T) {
	edge, served := serveWithResult(t)
	const calls = 200
	frames := edgeReader(edge, 2*calls)
	loadSet(t, edge, frames, 1, 1, []Binding{
		{ID: "echo", Plugin: "echo", Version: "1.0.0", Source: echoSource},
		{ID: "spin", Plugin: "spin", Version: "1.0.0", Source: spinSource},
		{ID: "kv", Plugin: "kv", Version: "1.0.0", Source: kvSource},
		{ID: "busy", Plugin: "busy", Version: "1.0.0", Source: busySource},
	})

	var out []*Frame
	for i := range calls {
		id := uint64(1000 + i)
		steps := []Step{{Index: 0}, {Index: 3, Timeout: 5 * time.Second}}
		if i%5 == 0 {
			steps = append(steps, Step{Index: 2, Timeout: 5 * time.Second})
		}
		out = append(out, &Frame{Kind: KindCall, ID: id, Call: accessCall(1, fmt.Sprintf("/call/%d", id), steps...)})
	}
	sendAsync(edge, out...)

	results := map[uint64]bool{}
	var busy time.Duration
	onResult := func(f *Frame) {
		id := f.ID
		if id < 1000 || id >= 1000+calls || results[id] {
			t.Errorf("result for call %d, which is unknown or already answered", id)
			return
		}
		results[id] = true
		header := f.Result.Exchange.Request.Header
		if got, want := header.Get("X-Echo"), fmt.Sprintf("/call/%d", id); got != want {
			t.Errorf("call %d: X-Echo = %q, want %q", id, got, want)
		}
		busy += f.Result.Steps[1].Elapsed
		if (id-1000)%5 == 0 && header.Get("X-Count") != strconv.FormatUint(id, 10) {
			t.Errorf("call %d: X-Count = %q, want the reply of its own host call", id, header.Get("X-Count"))
		}
	}
	answerUntilResults(t, edge, frames, calls, func(*Frame) {}, onResult)

	t.Logf("the busy hook took %s on average, against an inlineLimit of %s", busy/calls, inlineLimit)

	_ = edge.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5 seconds after the edge closed the connection")
	}
}
