package worker

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// isolate closes the descriptors that the worker inherited besides stdin,
// stdout, stderr and the socket, switches to user unless that is nil, sets
// no_new_privs, takes away access to files and the network
// (restrictAccess) and installs the seccomp filter (restrictSyscalls),
// before any plugin code runs.
func isolate(socket int, user *userID) error {
	if err := closeInheritedDescriptors(socket); err != nil {
		return err
	}
	if user != nil {
		if err := switchUser(*user); err != nil {
			return err
		}
	}
	if err := forbidNewPrivileges(); err != nil {
		return err
	}
	if err := restrictAccess(); err != nil {
		return err
	}
	return restrictSyscalls()
}

// switchUser sets the real, effective and saved user and group ids of
// every thread to user and drops the supplementary groups, which also
// clears the permitted, effective and ambient capabilities of a worker
// that root started. The Go runtime changes the ids on all threads.
//
// The kernel clears the parent death signal when the ids change, so it is
// set again; a worker whose edge ended in between exits.
func switchUser(user userID) error {
	parent := os.Getppid()
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("drop the supplementary groups: %w: a worker started with -user needs CAP_SETUID and CAP_SETGID, as root has outside a container", err)
	}
	if err := syscall.Setresgid(user.gid, user.gid, user.gid); err != nil {
		return fmt.Errorf("switch to group %d: %w", user.gid, err)
	}
	if err := syscall.Setresuid(user.uid, user.uid, user.uid); err != nil {
		return fmt.Errorf("switch to user %d: %w", user.uid, err)
	}
	if err := checkUser(user); err != nil {
		return err
	}

	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set the parent death signal again after the switch to user %d: %w", user.uid, err)
	}
	if os.Getppid() != parent {
		return errors.New("the edge that started the worker ended while it switched its user")
	}
	return nil
}

// checkUser checks that the real, effective and saved ids are user's.
func checkUser(user userID) error {
	ruid, euid, suid := unix.Getresuid()
	rgid, egid, sgid := unix.Getresgid()
	for _, id := range []int{ruid, euid, suid} {
		if id != user.uid {
			return fmt.Errorf("switch to user %d left user ids %d, %d, %d", user.uid, ruid, euid, suid)
		}
	}
	for _, id := range []int{rgid, egid, sgid} {
		if id != user.gid {
			return fmt.Errorf("switch to group %d left group ids %d, %d, %d", user.gid, rgid, egid, sgid)
		}
	}
	return nil
}

// closeInheritedDescriptors closes every descriptor above 2 except keep
// that lacks FD_CLOEXEC. Only a descriptor without FD_CLOEXEC survives the
// exec that started the worker, while the Go runtime opens its own (the
// poller's and the cgroup CPU limit file that it rereads) with
// O_CLOEXEC. That is why this lists /proc/self/fd and checks each
// descriptor instead of calling close_range(2), which would close the
// runtime's descriptors too.
func closeInheritedDescriptors(keep int) error {
	inherited, err := inheritedDescriptors()
	if err != nil {
		return err
	}

	for _, fd := range inherited {
		if fd == keep {
			continue
		}
		// Linux frees the descriptor even when close returns an error,
		// such as EIO from a file with unwritten data.
		_ = unix.Close(fd)
	}
	return nil
}

// inheritedDescriptors returns the open descriptors above 2 without
// FD_CLOEXEC, as /proc/self/fd lists them.
func inheritedDescriptors() ([]int, error) {
	folder, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil, fmt.Errorf("list open descriptors: %w: the worker needs /proc mounted", err)
	}
	names, err := folder.Readdirnames(-1)
	_ = folder.Close()
	if err != nil {
		return nil, fmt.Errorf("list open descriptors in /proc/self/fd: %w", err)
	}

	var inherited []int
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd <= 2 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if errors.Is(err, unix.EBADF) {
			// The folder's own descriptor, closed above.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the flags of descriptor %d: %w", fd, err)
		}
		if flags&unix.FD_CLOEXEC == 0 {
			inherited = append(inherited, fd)
		}
	}
	return inherited, nil
}

// forbidNewPrivileges sets no_new_privs on every thread of the process, so
// an exec from any of them cannot gain privileges through a set-user-ID
// binary or file capabilities. Threads started later inherit it.
//
// NOTE: in a binary linked with cgo, which the race detector and the net
// package's cgo resolver bring in, syscall.AllThreadsSyscall returns
// ENOTSUP. The flag is then set on the calling thread only, and threads
// that the Go runtime started before lack it. portcullis is built with
// CGO_ENABLED=0, where every thread gets it.
func forbidNewPrivileges() error {
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0)
	switch errno {
	case 0:
		return nil
	case syscall.ENOTSUP:
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs with prctl: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("set no_new_privs on every thread with prctl: %w", errno)
	}
}
