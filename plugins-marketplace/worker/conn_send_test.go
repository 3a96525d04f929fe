package worker

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Gob frames carry a stream that describes each type once, so concurrent
// Sends of gob and binary frames, some of them above MaxFrame, must still
// arrive whole, decodable and in each sender's order.
func TestConnConcurrentGobAndBinaryFrames(t *testing.T) {
	left, right := pipe(t)
	const senders, frames = 6, 150
	huge := string(make([]byte, MaxFrame))

	var wg sync.WaitGroup
	for sender := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range frames {
				id := uint64(sender*frames + i)
				var f *Frame
				switch (sender + i) % 3 {
				case 0:
					f = &Frame{Kind: KindCancel, ID: id}
				case 1:
					f = &Frame{Kind: KindHostCall, ID: id, HostCall: &HostCall{Method: MethodLog, Message: "m", Fields: map[string]any{"n": int64(i), "l": []any{"x"}}}}
				default:
					f = &Frame{Kind: KindHostReply, ID: id, HostReply: &HostReply{Found: true, Value: map[string]any{"k": "v"}}}
				}
				if err := left.Send(f); err != nil {
					t.Errorf("Send(%d): %v", id, err)
					return
				}
				if i%50 == 25 {
					// A frame above MaxFrame fails alone and leaves the queue
					// as it was.
					if err := left.Send(&Frame{Kind: KindHostCall, HostCall: &HostCall{Method: MethodLog, Message: huge}}); err == nil {
						t.Error("Send of a frame above MaxFrame = nil, want an error")
					}
				}
			}
		}()
	}

	next := make([]int, senders)
	for range senders * frames {
		f, err := right.Receive()
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		sender, i := int(f.ID)/frames, int(f.ID)%frames
		if sender >= senders || i != next[sender] {
			t.Fatalf("frame = kind %d id %d, want sender %d's frame %d next", f.Kind, f.ID, sender, next[sender])
		}
		if f.Kind == KindHostCall && (f.HostCall == nil || f.HostCall.Fields["n"] != int64(i)) {
			t.Fatalf("host call frame %d = %+v, want field n = %d", f.ID, f.HostCall, i)
		}
		next[sender]++
	}
	wg.Wait()
}

// A gob frame above MaxFrame is dropped after gob encoded it. The prime
// frame has described its types already, so the frames after it still
// decode. Here the dropped frame is the first with a list field, as a
// ctx.log line above MaxFrame makes it.
func TestConnOversizedGobFrameKeepsStream(t *testing.T) {
	left, right := pipe(t)
	huge := string(make([]byte, MaxFrame))

	sent := make(chan error, 1)
	go func() {
		if err := left.Send(&Frame{Kind: KindLoaded, ID: 1, Loaded: &Loaded{}}); err != nil {
			sent <- err
			return
		}
		if err := left.Send(&Frame{Kind: KindHostCall, ID: 2, HostCall: &HostCall{Method: MethodLog, Fields: map[string]any{"l": []any{huge}}}}); err == nil {
			sent <- errors.New("Send of a frame above MaxFrame = nil, want an error")
			return
		}
		sent <- left.Send(&Frame{Kind: KindHostCall, ID: 3, HostCall: &HostCall{Method: MethodLog, Fields: map[string]any{"l": []any{"x"}}}})
	}()

	for _, want := range []uint64{1, 3} {
		f, err := right.Receive()
		if err != nil {
			t.Fatalf("Receive of frame %d: %v", want, err)
		}
		if f.ID != want {
			t.Fatalf("frame id = %d, want %d", f.ID, want)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

func TestConnRejectsSecondPrime(t *testing.T) {
	var stream bytes.Buffer
	sender := NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{strings.NewReader(""), &stream, io.NopCloser(nil)})
	if err := sender.Send(&Frame{Kind: KindLoaded, ID: 1, Loaded: &Loaded{}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	// A forged prime frame after the first one, with gob's value message
	// only, since the stream described the types already.
	if err := sender.Send(&Frame{Kind: KindPrime, HostReply: &HostReply{}}); err != nil {
		t.Fatalf("Send of the forged prime: %v", err)
	}

	receiver := NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{&stream, io.Discard, io.NopCloser(nil)})
	if f, err := receiver.Receive(); err != nil || f.Kind != KindLoaded {
		t.Fatalf("Receive = %+v, %v, want the loaded frame after the prime", f, err)
	}
	_, err := receiver.Receive()
	if !errors.Is(err, errMalformed) || !strings.Contains(err.Error(), "second prime frame") {
		t.Errorf("Receive of a second prime = %v, want a malformed-frame error", err)
	}
}

func TestConnSendFailsOnBrokenStream(t *testing.T) {
	a, b := net.Pipe()
	conn := NewConn(a)
	_ = b.Close()

	for id := uint64(1); id <= 2; id++ {
		done := make(chan error, 1)
		go func() { done <- conn.Send(&Frame{Kind: KindCancel, ID: id}) }()
		select {
		case err := <-done:
			if !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("Send(%d) on a closed pipe = %v, want io.ErrClosedPipe", id, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Send(%d) did not return within 5s", id)
		}
	}
}
