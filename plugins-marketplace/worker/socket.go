//go:build unix

package worker

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// Socket is the worker's end of its socket to the edge. It waits for data
// on Go's network poller but reads and writes with raw system calls, which
// do not tell the scheduler that a system call began. The socket is
// non-blocking, so no raw call waits in the kernel.
//
// A worker runs Go code on one CPU and goes idle between most frames. In
// a blocking read its only scheduler slot sat in the system call, so the
// runtime's monitor thread (sysmon) took the slot back every 20 µs. Plain
// reads through the poller still woke the monitor with the first system
// call after each idle spell, and it then polled every 20 µs until the
// worker was idle again. On a virtual machine those wake-ups cost more
// CPU than the reads and writes themselves.
type Socket struct {
	file *os.File
	raw  syscall.RawConn
}

// NewSocket puts descriptor fd of a connected stream socket into
// non-blocking mode and returns it as a Socket, which owns fd from then on.
// It closes fd when it fails.
func NewSocket(fd int, name string) (*Socket, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("put socket %s into non-blocking mode: %w", name, err)
	}

	// os.NewFile registers a non-blocking descriptor with the poller.
	file := os.NewFile(uintptr(fd), name)
	raw, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("register socket %s with the network poller: %w", name, err)
	}
	return &Socket{file: file, raw: raw}, nil
}

// Read reads from the socket, waiting on the poller until data arrives or
// the socket is closed. It returns io.EOF once the edge closed its end.
func (s *Socket) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}

	var n int
	var errno syscall.Errno
	err := s.raw.Read(func(fd uintptr) bool {
		n, errno = rawIO(syscall.SYS_READ, fd, p)
		return errno != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, s.closed("read")
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p, waiting on the poller while the socket's buffer
// is full.
func (s *Socket) Write(p []byte) (int, error) {
	written := 0
	var errno syscall.Errno
	err := s.raw.Write(func(fd uintptr) bool {
		for written < len(p) {
			var n int
			n, errno = rawIO(syscall.SYS_WRITE, fd, p[written:])
			if errno == syscall.EAGAIN {
				return false
			}
			if errno != 0 {
				return true
			}
			written += n
		}
		return true
	})
	switch {
	case err != nil:
		return written, s.closed("write")
	case errno != 0:
		return written, os.NewSyscallError("write", errno)
	}
	return written, nil
}

// closed is the error of a read or write that the poller ended. The
// socket sets no deadlines, so the only cause is Close.
func (s *Socket) closed(op string) error {
	return &os.PathError{Op: op, Path: s.file.Name(), Err: os.ErrClosed}
}

// rawIO runs the read or write system call trap on fd and p, repeating
// it when a signal interrupted it.
func rawIO(trap, fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if errno != syscall.EINTR {
			return int(n), errno
		}
	}
}

// Close closes the socket, which ends a read or write waiting in another
// goroutine.
func (s *Socket) Close() error {
	return s.file.Close()
}
