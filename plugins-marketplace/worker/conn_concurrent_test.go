package worker

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

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
