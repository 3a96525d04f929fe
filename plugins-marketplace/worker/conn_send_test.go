package worker

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// gatedWriter records each write as one batch. The first write waits until
// release is closed, so frames that other Sends queue meanwhile go out in
// the second write.
type gatedWriter struct {
	release chan struct{}
	entered chan struct{}

	mu      sync.Mutex
	batches [][]byte
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	first := len(w.batches) == 0
	w.batches = append(w.batches, bytes.Clone(p))
	w.mu.Unlock()

	if first {
		close(w.entered)
		<-w.release
	}
	return len(p), nil
}

func (w *gatedWriter) Read([]byte) (int, error) { return 0, io.EOF }

func (w *gatedWriter) Close() error { return nil }

func TestConnSendQueuesDuringWrite(t *testing.T) {
	stream := &gatedWriter{release: make(chan struct{}), entered: make(chan struct{})}
	conn := NewConn(stream)

	firstDone := make(chan error, 1)
	go func() { firstDone <- conn.Send(&Frame{Kind: KindCancel, ID: 1}) }()
	<-stream.entered

	// While the first write waits, these Sends queue their frames and
	// return without writing.
	for id := uint64(2); id <= 4; id++ {
		if err := conn.Send(&Frame{Kind: KindCancel, ID: id}); err != nil {
			t.Fatalf("Send(%d) = %v, want nil", id, err)
		}
	}
	select {
	case err := <-firstDone:
		t.Fatalf("first Send returned %v before its write ended", err)
	default:
	}
	close(stream.release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first Send = %v, want nil", err)
	}

	if len(stream.batches) != 2 {
		t.Fatalf("%d writes, want 2: the first frame, then the three queued ones", len(stream.batches))
	}
	queued := NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{bytes.NewReader(stream.batches[1]), io.Discard, io.NopCloser(nil)})
	for want := uint64(2); want <= 4; want++ {
		f, err := queued.Receive()
		if err != nil {
			t.Fatalf("Receive from the second write: %v", err)
		}
		if f.Kind != KindCancel || f.ID != want {
			t.Errorf("frame = kind %d id %d, want a cancel with id %d", f.Kind, f.ID, want)
		}
	}
	if _, err := queued.Receive(); !errors.Is(err, io.EOF) {
		t.Errorf("Receive after the three frames = %v, want io.EOF", err)
	}
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
