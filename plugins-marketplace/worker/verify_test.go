package worker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// guardSource denies every request when its config sets mode "deny".
const guardSource = `func access(ctx, conf) {
	if conf.get("mode", "") == "deny" {
		ctx.exit(403, "denied")
	}
}
`

// guardVectors states that no binding's config denies every request.
const guardVectors = `[{"name": "never denies everything", "binding_config": true,
  "request": {"path": "/"}, "expect": {"status": 200}}]`

// endlessSource runs each access hook until its deadline.
const endlessSource = `func access(ctx, conf) {
	n := 0
	for { n++ }
}
`

// endlessVectors runs endlessSource's hook 100 times, each until the hook
// timeout of one second, so only a cancel or a deadline ends it early.
const endlessVectors = `[{"name": "loops", "repeat": 100, "request": {"path": "/"}, "expect": {"status": 200}}]`

// receiveWithin returns the next frame, failing the test when none arrives
// within 30 seconds, so a run that ignores its cancel cannot hang the test.
func receiveWithin(t *testing.T, conn *Conn) *Frame {
	t.Helper()
	type received struct {
		f   *Frame
		err error
	}
	done := make(chan received, 1)
	go func() {
		f, err := conn.Receive()
		done <- received{f, err}
	}()

	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Receive: %v", r.err)
		}
		return r.f
	case <-time.After(30 * time.Second):
		t.Fatal("no frame within 30 seconds")
		return nil
	}
}

// verifyOnce sends v as frame id and returns the worker's Verified reply.
func verifyOnce(t *testing.T, edge *Conn, id uint64, v *Verify) *Verified {
	t.Helper()
	if err := edge.Send(&Frame{Kind: KindVerify, ID: id, Verify: v}); err != nil {
		t.Fatalf("send verify: %v", err)
	}
	reply := receiveWithin(t, edge)
	if reply.Kind != KindVerified || reply.ID != id || reply.Verified == nil {
		t.Fatalf("reply = %+v, want a Verified frame with id %d", reply, id)
	}
	return reply.Verified
}

func TestVerifyRunsVectors(t *testing.T) {
	edge := serve(t)
	tests := []struct {
		name    string
		source  string
		vectors string
		config  string
		// vector is the failing vector expected, and err a part of the
		// error expected when the vectors do not run.
		vector string
		err    string
	}{
		{name: "passing config", source: guardSource, vectors: guardVectors, config: `{"mode":"open"}`},
		{name: "empty config", source: guardSource, vectors: guardVectors},
		{name: "failing config", source: guardSource, vectors: guardVectors, config: `{"mode":"deny"}`, vector: "never denies everything"},
		{name: "compile error", source: "func access(ctx, conf) {", vectors: guardVectors, err: "compile plugin"},
		{name: "invalid vectors", source: guardSource, vectors: `[{"nme": "typo"}]`, err: "unknown field"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verify{Plugin: "guard", Version: "1.0.0", Source: tt.source, Vectors: []byte(tt.vectors), Config: []byte(tt.config), Timeout: 10 * time.Second}
			verified := verifyOnce(t, edge, uint64(i+1), v)
			failure := verified.Failure()

			switch {
			case tt.err != "":
				if failure == nil || !strings.Contains(failure.Error(), tt.err) {
					t.Errorf("failure = %v, want an error that contains %q", failure, tt.err)
				}
			case tt.vector != "":
				var vectorErr *pluginpkg.VectorError
				if !errors.As(failure, &vectorErr) {
					t.Fatalf("failure = %v, want a *pluginpkg.VectorError", failure)
				}
				if vectorErr.Vector != tt.vector {
					t.Errorf("failing vector = %q, want %q", vectorErr.Vector, tt.vector)
				}
				if len(vectorErr.Differences) == 0 {
					t.Error("the failure lists no differences")
				}
			default:
				if failure != nil {
					t.Errorf("failure = %v, want none", failure)
				}
			}
		})
	}
}

func TestVerifyLetsCallsRunAndStopsOnCancel(t *testing.T) {
	edge := serve(t)
	v := &Verify{Plugin: "endless", Version: "1.0.0", Source: endlessSource, Vectors: []byte(endlessVectors)}
	if err := edge.Send(&Frame{Kind: KindVerify, ID: 1, Verify: v}); err != nil {
		t.Fatal(err)
	}

	// The vectors run for 100 seconds unless canceled, so the load and the
	// call below get their replies only because the run is off the read
	// loop.
	load := &Load{Set: 1, Tenant: "acme", Bindings: []Binding{{ID: "guard", Plugin: "guard", Version: "1.0.0", Source: guardSource}}}
	if err := edge.Send(&Frame{Kind: KindLoad, ID: 2, Load: load}); err != nil {
		t.Fatal(err)
	}
	if loaded := receiveWithin(t, edge); loaded.Kind != KindLoaded || loaded.ID != 2 {
		t.Fatalf("frame = %+v, want the Loaded reply of frame 2", loaded)
	}
	call := &Call{Set: 1, Phase: pluginhost.PhaseAccess, Steps: []Step{{Index: 0}}, Exchange: Exchange{Request: pluginhost.Request{Path: "/"}}}
	if err := edge.Send(&Frame{Kind: KindCall, ID: 3, Call: call}); err != nil {
		t.Fatal(err)
	}
	if result := receiveWithin(t, edge); result.Kind != KindResult || result.ID != 3 {
		t.Fatalf("frame = %+v, want the Result reply of frame 3", result)
	}

	if err := edge.Send(&Frame{Kind: KindCancel, ID: 1}); err != nil {
		t.Fatal(err)
	}
	reply := receiveWithin(t, edge)
	if reply.Kind != KindVerified || reply.ID != 1 {
		t.Fatalf("frame = %+v, want the Verified reply of frame 1", reply)
	}
	// The cancel stops the vector that loops, or on a busy machine comes
	// before the run started it. Either way the reply is no pass.
	if reply.Verified.Vector != "loops" && !strings.Contains(reply.Verified.Err, "canceled") {
		t.Errorf("reply = %+v, want the canceled vector %q or a canceled run", reply.Verified, "loops")
	}
}

func TestVerifyStopsAtTimeout(t *testing.T) {
	edge := serve(t)
	v := &Verify{Plugin: "endless", Version: "1.0.0", Source: endlessSource, Vectors: []byte(endlessVectors), Timeout: 50 * time.Millisecond}

	verified := verifyOnce(t, edge, 1, v)
	if verified.Vector != "loops" {
		t.Errorf("failing vector = %q, want %q", verified.Vector, "loops")
	}
	if !strings.Contains(strings.Join(verified.Differences, "; "), "deadline") {
		t.Errorf("differences = %q, want a deadline error", verified.Differences)
	}
}
