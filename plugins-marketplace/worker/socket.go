//go:build unix

package worker

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
)

// Socket is the worker's end of its socket to the edge, read and written
// in blocking mode on the calling goroutine's thread instead of through
// Go's network poller. A frame then costs one read system call, where the
// poller costs a failed read, a poll wait and a second read, and on a
// virtual machine each system call is slow. A worker runs Go code on one
// CPU and its only work comes from the socket, so its reading thread has
// nothing else to do while it waits. The edge's end stays on the poller,
// because there a thread blocked in a read would hold a scheduler slot
// that the edge's other goroutines need until the runtime takes it back.
type Socket struct {
	file *os.File
	fd   int

	closeOnce sync.Once
	closeErr  error
}

// NewSocket puts descriptor fd of a connected stream socket into blocking
// mode and returns it as a Socket, which owns fd from then on.
func NewSocket(fd int, name string) (*Socket, error) {
	if err := syscall.SetNonblock(fd, false); err != nil {
		return nil, fmt.Errorf("put socket %s into blocking mode: %w", name, err)
	}

	// os.NewFile leaves a blocking descriptor out of the network poller,
	// so the File's reads and writes are plain system calls.
	return &Socket{file: os.NewFile(uintptr(fd), name), fd: fd}, nil
}

// Read reads from the socket, blocking until data arrives or the socket
// is shut down. It first yields to the goroutines that the frames read
// before have woken, so they do not wait for the runtime to take back the
// scheduler slot of a thread blocked in the read.
func (s *Socket) Read(p []byte) (int, error) {
	runtime.Gosched()
	return s.file.Read(p)
}

// Write writes all of p.
func (s *Socket) Write(p []byte) (int, error) {
	return s.file.Write(p)
}

// Close shuts the socket down, which ends a read blocked in another
// goroutine, and closes it once that read has returned.
func (s *Socket) Close() error {
	s.closeOnce.Do(func() {
		_ = syscall.Shutdown(s.fd, syscall.SHUT_RDWR)
		s.closeErr = s.file.Close()
	})
	return s.closeErr
}
