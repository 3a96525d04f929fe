package worker

import (
	"runtime"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// newPipe returns both ends of a new pipe, with FD_CLOEXEC when cloexec is
// set, and closes them when the test ends.
func newPipe(t *testing.T, cloexec bool) [2]int {
	t.Helper()
	flags := 0
	if cloexec {
		flags = syscall.O_CLOEXEC
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], flags); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Close(fds[0])
		_ = syscall.Close(fds[1])
	})
	return fds
}

func TestInheritedDescriptorsLacksCloexec(t *testing.T) {
	inherited := newPipe(t, false)
	own := newPipe(t, true)

	listed, err := inheritedDescriptors()
	if err != nil {
		t.Fatal(err)
	}

	for _, fd := range inherited {
		if !slices.Contains(listed, fd) {
			t.Errorf("descriptor %d without FD_CLOEXEC is missing from %v", fd, listed)
		}
	}
	for _, fd := range own {
		if slices.Contains(listed, fd) {
			t.Errorf("descriptor %d with FD_CLOEXEC is listed in %v", fd, listed)
		}
	}
	for _, fd := range listed {
		if fd <= 2 {
			t.Errorf("standard descriptor %d is listed in %v", fd, listed)
		}
	}
}

func TestForbidNewPrivilegesSetsFlag(t *testing.T) {
	// The flag cannot be cleared, and only exec is affected by it, so
	// setting it in the test process changes no other test. The thread
	// stays the same, because a cgo build sets the flag on the calling
	// thread only.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := forbidNewPrivileges(); err != nil {
		t.Fatal(err)
	}

	flag, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flag != 1 {
		t.Errorf("PR_GET_NO_NEW_PRIVS = %d, want 1", flag)
	}
}
