package worker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompChildEnv marks the child process of TestSeccompFilter. The filter
// cannot be removed, so it is installed in a child and not in the test
// process.
const seccompChildEnv = "PORTCULLIS_TEST_SECCOMP_DIR"

// seccompProbes are the actions that the child tries under the filter,
// each with the error that the filter must give it. want is 0 for an
// allowed action and EPERM for a denied one. It is ENOSYS for a call that
// callers must replace with an older one.
var seccompProbes = []probe{
	{"filter installed", 0, filterInstalled},
	{"read a file", 0, func(string) error { _, err := os.ReadFile("/proc/self/status"); return err }},
	{"start threads", 0, startThreads},
	{"signal itself", 0, func(string) error { return syscall.Kill(os.Getpid(), 0) }},
	{"read its own limits", 0, func(string) error {
		var limit unix.Rlimit
		return unix.Prlimit(0, unix.RLIMIT_NOFILE, nil, &limit)
	}},
	{"run a program", syscall.EPERM, func(string) error { return exec.Command("/bin/true").Run() }},
	{"open a socket", syscall.EPERM, func(string) error {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err == nil {
			_ = syscall.Close(fd)
		}
		return err
	}},
	{"create a file", syscall.EPERM, func(dir string) error {
		file, err := os.Create(filepath.Join(dir, "created"))
		if err == nil {
			_ = file.Close()
		}
		return err
	}},
	{"open a file for writing", syscall.EPERM, func(dir string) error {
		file, err := os.OpenFile(filepath.Join(dir, "existing"), os.O_WRONLY, 0)
		if err == nil {
			_ = file.Close()
		}
		return err
	}},
	{"create a file with openat2", syscall.ENOSYS, func(dir string) error {
		openHow := unix.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY | unix.O_CLOEXEC, Mode: 0o600}
		fd, err := unix.Openat2(unix.AT_FDCWD, filepath.Join(dir, "openat2"), &openHow)
		if err == nil {
			_ = unix.Close(fd)
		}
		return err
	}},
	{"change a read-only file's mode", syscall.EPERM, func(dir string) error {
		file, err := os.Open(filepath.Join(dir, "existing"))
		if err != nil {
			return err
		}
		defer file.Close()
		return file.Chmod(0o777)
	}},
	{"set an extended attribute", syscall.EPERM, func(dir string) error {
		return unix.Setxattr(filepath.Join(dir, "existing"), "user.probe", []byte("x"), 0)
	}},
	{"change a file's times", syscall.EPERM, func(dir string) error {
		return os.Chtimes(filepath.Join(dir, "existing"), time.Unix(0, 0), time.Unix(0, 0))
	}},
	{"make a folder", syscall.EPERM, func(dir string) error { return os.Mkdir(filepath.Join(dir, "folder"), 0o700) }},
	{"remove a file", syscall.EPERM, func(dir string) error { return os.Remove(filepath.Join(dir, "existing")) }},
	{"enter a user namespace", syscall.EPERM, func(string) error { return unix.Unshare(unix.CLONE_NEWUSER) }},
	{"open a new mount", syscall.EPERM, func(string) error {
		fd, err := unix.Fsopen("tmpfs", 0)
		if err == nil {
			_ = unix.Close(fd)
		}
		return err
	}},
	{"signal the parent", syscall.EPERM, func(string) error { return syscall.Kill(os.Getppid(), 0) }},
	{"queue a signal to the parent", syscall.EPERM, func(string) error {
		// A negative si_code (SI_QUEUE) is what the kernel lets a process
		// send to another of the same user.
		var info [128]byte
		binary.NativeEndian.PutUint32(info[8:], uint32(0xffffffff))
		_, _, errno := syscall.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(os.Getppid()), 0, uintptr(unsafe.Pointer(&info[0])))
		if errno != 0 {
			return errno
		}
		return nil
	}},
	{"change the parent's limits", syscall.EPERM, func(string) error {
		var limit unix.Rlimit
		return unix.Prlimit(os.Getppid(), unix.RLIMIT_NOFILE, nil, &limit)
	}},
}

// filterInstalled checks that /proc/self/status shows seccomp filter mode.
func filterInstalled(string) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	if !bytes.Contains(status, []byte("Seccomp:\t2")) {
		return errors.New("/proc/self/status shows no seccomp filter")
	}
	return nil
}

// startThreads makes the runtime start new threads under the filter.
func startThreads(string) error {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		})
	}
	wg.Wait()
	return nil
}

// TestSeccompFilter runs the probes in a child process with the worker's
// filter installed, and checks which ones the filter stopped with EPERM.
func TestSeccompFilter(t *testing.T) {
	if dir := os.Getenv(seccompChildEnv); dir != "" {
		runProbes(dir, restrictSyscalls, seccompProbes)
		return
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "existing"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := probeInChild(t, "TestSeccompFilter", seccompChildEnv+"="+dir)
	for _, probe := range seccompProbes {
		run.check(t, probe.name, probe.want)
	}
	if _, err := os.Stat(filepath.Join(dir, "existing")); err != nil {
		t.Errorf("the file that the child tried to remove: %v, want it kept", err)
	}
}

// probe is one action that a child process tries under a restriction,
// with the error that the restriction must give it: 0 for an allowed
// action.
type probe struct {
	name string
	want syscall.Errno
	try  func(dir string) error
}

// probeRun is the output of a child process that ran probes, and its
// results by probe name.
type probeRun struct {
	output  []byte
	results map[string]string
}

// probeInChild runs test in a child process of the test binary with env
// added to its environment.
func probeInChild(t *testing.T, test string, env ...string) probeRun {
	t.Helper()
	child := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	child.Env = append(os.Environ(), env...)
	output, err := child.CombinedOutput()
	if err != nil {
		t.Fatalf("child process failed: %v\n%s", err, output)
	}
	return probeRun{output: output, results: probeResults(output)}
}

// check checks that the probe name gave want.
func (r probeRun) check(t *testing.T, name string, want syscall.Errno) {
	t.Helper()
	expected := "ok"
	if want != 0 {
		expected = want.Error()
	}
	got, found := r.results[name]
	switch {
	case !found:
		t.Errorf("probe %q printed no result; child output:\n%s", name, r.output)
	case got != expected:
		t.Errorf("probe %q = %s, want %s", name, got, expected)
	}
}

// runProbes is the child's side: it applies restrict, runs each probe and
// prints "probe NAME: ok", the errno's text, or the error.
func runProbes(dir string, restrict func() error, probes []probe) {
	if err := restrict(); err != nil {
		fmt.Printf("restrict: %v\n", err)
		return
	}

	for _, probe := range probes {
		err := probe.try(dir)
		var errno syscall.Errno
		switch {
		case err == nil:
			fmt.Printf("probe %s: ok\n", probe.name)
		case errors.As(err, &errno):
			fmt.Printf("probe %s: %s\n", probe.name, errno.Error())
		default:
			fmt.Printf("probe %s: %v\n", probe.name, err)
		}
	}
}

// probeResults parses the child's "probe NAME: RESULT" lines.
func probeResults(output []byte) map[string]string {
	results := map[string]string{}
	scanner := bufio.NewScanner(bytes.NewReader(output))
	for scanner.Scan() {
		line, found := strings.CutPrefix(scanner.Text(), "probe ")
		if !found {
			continue
		}
		name, result, _ := strings.Cut(line, ": ")
		results[name] = result
	}
	return results
}
