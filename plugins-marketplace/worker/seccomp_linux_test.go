package worker

import (
	"bufio"
	"bytes"
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

	"golang.org/x/sys/unix"
)

// seccompChildEnv marks the child process of TestSeccompFilter. The filter
// cannot be removed, so it is installed in a child and not in the test
// process.
const seccompChildEnv = "PORTCULLIS_TEST_SECCOMP_DIR"

// seccompProbes are the actions that the child tries under the filter,
// each with whether the filter must allow it.
var seccompProbes = []struct {
	name    string
	allowed bool
	try     func(dir string) error
}{
	{"filter installed", true, filterInstalled},
	{"read a file", true, func(string) error { _, err := os.ReadFile("/proc/self/status"); return err }},
	{"start threads", true, startThreads},
	{"signal itself", true, func(string) error { return syscall.Kill(os.Getpid(), 0) }},
	{"run a program", false, func(string) error { return exec.Command("/bin/true").Run() }},
	{"open a socket", false, func(string) error {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err == nil {
			_ = syscall.Close(fd)
		}
		return err
	}},
	{"create a file", false, func(dir string) error {
		file, err := os.Create(filepath.Join(dir, "created"))
		if err == nil {
			_ = file.Close()
		}
		return err
	}},
	{"open a file for writing", false, func(dir string) error {
		file, err := os.OpenFile(filepath.Join(dir, "existing"), os.O_WRONLY, 0)
		if err == nil {
			_ = file.Close()
		}
		return err
	}},
	{"make a folder", false, func(dir string) error { return os.Mkdir(filepath.Join(dir, "folder"), 0o700) }},
	{"remove a file", false, func(dir string) error { return os.Remove(filepath.Join(dir, "existing")) }},
	{"enter a user namespace", false, func(string) error { return unix.Unshare(unix.CLONE_NEWUSER) }},
	{"signal the parent", false, func(string) error { return syscall.Kill(os.Getppid(), 0) }},
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
		runSeccompProbes(dir)
		return
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "existing"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestSeccompFilter$")
	child.Env = append(os.Environ(), seccompChildEnv+"="+dir)
	output, err := child.CombinedOutput()
	if err != nil {
		t.Fatalf("child process failed: %v\n%s", err, output)
	}

	results := probeResults(output)
	for _, probe := range seccompProbes {
		got, found := results[probe.name]
		switch {
		case !found:
			t.Errorf("probe %q printed no result; child output:\n%s", probe.name, output)
		case probe.allowed && got != "ok":
			t.Errorf("probe %q = %s, want ok", probe.name, got)
		case !probe.allowed && got != "denied":
			t.Errorf("probe %q = %s, want denied (EPERM)", probe.name, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "existing")); err != nil {
		t.Errorf("the file that the child tried to remove: %v, want it kept", err)
	}
}

// runSeccompProbes is the child's side: it installs the filter, runs each
// probe and prints "probe NAME: ok", "denied" or the error.
func runSeccompProbes(dir string) {
	if err := restrictSyscalls(); err != nil {
		fmt.Printf("restrictSyscalls: %v\n", err)
		return
	}

	for _, probe := range seccompProbes {
		err := probe.try(dir)
		switch {
		case err == nil:
			fmt.Printf("probe %s: ok\n", probe.name)
		case errors.Is(err, syscall.EPERM):
			fmt.Printf("probe %s: denied\n", probe.name)
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
