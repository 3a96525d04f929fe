package worker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// gatedWriter records each write as one batch. Write number n (from 0)
// waits until gates[n] is closed, and writes past the gates go through.
type gatedWriter struct {
	gates   []chan struct{}
	entered []chan struct{}

	mu      sync.Mutex
	batches [][]byte
}

func newGatedWriter(gated int) *gatedWriter {
	w := &gatedWriter{}
	for range gated {
		w.gates = append(w.gates, make(chan struct{}))
		w.entered = append(w.entered, make(chan struct{}))
	}
	return w
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	n := len(w.batches)
	w.batches = append(w.batches, bytes.Clone(p))
	w.mu.Unlock()

	if n < len(w.gates) {
		close(w.entered[n])
		<-w.gates[n]
	}
	return len(p), nil
}

func (w *gatedWriter) Read([]byte) (int, error) { return 0, io.EOF }

func (w *gatedWriter) Close() error { return nil }

// queuedBytes returns the size of the frames that wait for a write.
func queuedBytes(c *Conn) int {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return len(c.enc.buf)
}

// sendCancel starts a Send of a cancel frame with id and returns the channel
// of its result.
func sendCancel(c *Conn, id uint64) chan error {
	done := make(chan error, 1)
	go func() { done <- c.Send(&Frame{Kind: KindCancel, ID: id}) }()
	return done
}

// waitFor polls condition until it holds, and fails the test after 5 s.
func waitFor(t *testing.T, what string, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 5s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConnSendQueuesDuringWrite(t *testing.T) {
	stream := newGatedWriter(1)
	conn := NewConn(stream)

	first := sendCancel(conn, 1)
	<-stream.entered[0]
	// While the first write waits, three Sends queue their frames in turn.
	var queued []chan error
	for id := uint64(2); id <= 4; id++ {
		before := queuedBytes(conn)
		queued = append(queued, sendCancel(conn, id))
		waitFor(t, fmt.Sprintf("queueing frame %d", id), func() bool { return queuedBytes(conn) > before })
	}
	for i, done := range queued {
		select {
		case err := <-done:
			t.Fatalf("Send(%d) returned %v before its frame was written", i+2, err)
		default:
		}
	}

	close(stream.gates[0])
	for i, done := range append([]chan error{first}, queued...) {
		if err := <-done; err != nil {
			t.Errorf("Send(%d) = %v, want nil", i+1, err)
		}
	}
	if len(stream.batches) != 2 {
		t.Fatalf("%d writes, want 2: the first frame, then the three queued ones", len(stream.batches))
	}
	assertCancels(t, stream.batches[1], 2, 3, 4)
}

// assertCancels checks that batch holds exactly cancel frames with ids,
// in that order.
func assertCancels(t *testing.T, batch []byte, ids ...uint64) {
	t.Helper()
	reader := NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{bytes.NewReader(batch), io.Discard, io.NopCloser(nil)})
	for _, want := range ids {
		f, err := reader.Receive()
		if err != nil {
			t.Fatalf("Receive from the batch: %v", err)
		}
		if f.Kind != KindCancel || f.ID != want {
			t.Errorf("frame = kind %d id %d, want a cancel with id %d", f.Kind, f.ID, want)
		}
	}
	if _, err := reader.Receive(); !errors.Is(err, io.EOF) {
		t.Errorf("Receive after %d frames = %v, want io.EOF", len(ids), err)
	}
}

// A Send returns once its own frame is written, although more frames are
// queued, so its caller's deadline applies again. Another Send writes
// them.
func TestConnSendReturnsAfterOwnWrite(t *testing.T) {
	stream := newGatedWriter(2)
	conn := NewConn(stream)

	first := sendCancel(conn, 1)
	<-stream.entered[0]
	second := sendCancel(conn, 2)
	waitFor(t, "queueing frame 2", func() bool { return queuedBytes(conn) > 0 })

	close(stream.gates[0])
	select {
	case err := <-first:
		if err != nil {
			t.Fatalf("first Send = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first Send did not return within 5s of its write: it is writing the queued frame too")
	}
	<-stream.entered[1]
	third := sendCancel(conn, 3)
	waitFor(t, "queueing frame 3", func() bool { return queuedBytes(conn) > 0 })

	close(stream.gates[1])
	if err := <-second; err != nil {
		t.Errorf("second Send = %v, want nil", err)
	}
	if err := <-third; err != nil {
		t.Errorf("third Send = %v, want nil", err)
	}
	if len(stream.batches) != 3 {
		t.Fatalf("%d writes, want 3", len(stream.batches))
	}
	assertCancels(t, stream.batches[1], 2)
	assertCancels(t, stream.batches[2], 3)
}

func TestConnConcurrentSendsArriveWhole(t *testing.T) {
	left, right := pipe(t)
	const senders, frames = 8, 200

	var wg sync.WaitGroup
	for sender := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range frames {
				id := uint64(sender*frames + i)
				if err := left.Send(&Frame{Kind: KindCancel, ID: id}); err != nil {
					t.Errorf("Send(%d): %v", id, err)
					return
				}
			}
		}()
	}

	// Each sender's frames must arrive once, in the order it sent them.
	next := make([]int, senders)
	for range senders * frames {
		f, err := right.Receive()
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		sender, i := int(f.ID)/frames, int(f.ID)%frames
		if f.Kind != KindCancel || sender >= senders || i != next[sender] {
			t.Fatalf("frame = kind %d id %d, want sender %d's frame %d next", f.Kind, f.ID, sender, next[sender])
		}
		next[sender]++
	}
	wg.Wait()
}

func TestConnSendFailsAfterBrokenStream(t *testing.T) {
	a, b := net.Pipe()
	conn := NewConn(a)
	_ = b.Close()

	first := conn.Send(&Frame{Kind: KindCancel, ID: 1})
	if first == nil {
		t.Fatal("Send on a closed pipe = nil, want the write's error")
	}
	done := make(chan error, 1)
	go func() { done <- conn.Send(&Frame{Kind: KindCancel, ID: 2}) }()
	select {
	case err := <-done:
		if !errors.Is(err, first) {
			t.Errorf("second Send = %v, want the first write's error %v", err, first)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second Send did not return within 5s")
	}
}
