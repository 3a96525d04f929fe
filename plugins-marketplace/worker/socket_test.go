//go:build unix

package worker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// socketPair returns both ends of a Unix stream socket as Sockets.
func socketPair(t *testing.T) (*Socket, *Socket) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewSocket(fds[0], "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSocket(fds[1], "b")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = a.Close()
		_ = b.Close()
	})
	return a, b
}

func TestSocketCarriesFrames(t *testing.T) {
	a, b := socketPair(t)
	left, right := NewConn(a), NewConn(b)

	if err := left.Send(&Frame{Kind: KindCancel, ID: 7}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	f, err := right.Receive()
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if f.Kind != KindCancel || f.ID != 7 {
		t.Errorf("received kind %d id %d, want kind %d id 7", f.Kind, f.ID, KindCancel)
	}
}

// TestSocketCloseEndsBlockedRead checks that Close ends a read that waits
// on the poller for data.
func TestSocketCloseEndsBlockedRead(t *testing.T) {
	a, _ := socketPair(t)
	done := make(chan error, 1)
	go func() {
		var buf [1]byte
		_, err := a.Read(buf[:])
		done <- err
	}()

	time.Sleep(50 * time.Millisecond)
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
			t.Errorf("blocked Read ended with %v, want EOF or a closed file", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5s after Close")
	}
}

// TestSocketWritesAboveTheBuffer checks that a write larger than the
// socket's kernel buffer waits for the reader and arrives whole.
func TestSocketWritesAboveTheBuffer(t *testing.T) {
	a, b := socketPair(t)
	sent := make([]byte, 4<<20)
	for i := range sent {
		sent[i] = byte(i * 7)
	}

	done := make(chan error, 1)
	go func() {
		n, err := a.Write(sent)
		if err == nil && n != len(sent) {
			err = fmt.Errorf("wrote %d of %d bytes", n, len(sent))
		}
		done <- err
	}()

	got := make([]byte, len(sent))
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatalf("ReadFull: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Write: %v", err)
	}
	if !bytes.Equal(got, sent) {
		t.Error("the bytes read differ from the bytes written")
	}
}

func TestSocketSeesPeerClose(t *testing.T) {
	a, b := socketPair(t)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var buf [1]byte
	if _, err := a.Read(buf[:]); !errors.Is(err, io.EOF) {
		t.Errorf("Read after the peer closed = %v, want EOF", err)
	}
	if _, err := a.Write(buf[:]); err == nil {
		t.Error("Write after the peer closed succeeded, want an error")
	}
}

func TestNewSocketRejectsClosedDescriptor(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = syscall.Close(fds[0])
	_ = syscall.Close(fds[1])
	if _, err := NewSocket(fds[0], "gone"); err == nil {
		t.Error("NewSocket of a closed descriptor succeeded, want an error")
	}
}
