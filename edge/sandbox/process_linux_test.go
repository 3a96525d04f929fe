package sandbox

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"portcullis.dev/plugins-marketplace/worker"
)

// startLoadedWorker starts a real worker with startProcess and waits until
// it replied to an empty load, which it serves only after its start-up
// steps. It returns the worker's process id.
func startLoadedWorker(t *testing.T) int {
	t.Helper()
	pid, _ := startLoadedWorkerAs(t, nil, t.TempDir())
	return pid
}

// startLoadedWorkerAs is startLoadedWorker with the workers' user set to
// user and their folders in dir. It also returns the edge's end of the
// worker's socket.
func startLoadedWorkerAs(t *testing.T, user *User, dir string) (int, net.Conn) {
	t.Helper()
	executable, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config{Command: []string{executable, "worker"}, Dir: dir, User: user}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	proc, socket, err := startProcess(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = socket.Close()
		<-proc.exited
	})

	conn := worker.NewConn(socket)
	if err := conn.Send(&worker.Frame{Kind: worker.KindLoad, ID: 1, Load: &worker.Load{Set: 1, Tenant: "acme"}}); err != nil {
		t.Fatalf("send load: %v", err)
	}
	reply, err := conn.Receive()
	if err != nil {
		t.Fatalf("receive loaded: %v; worker: %s", err, proc.stderr.String())
	}
	if reply.Kind != worker.KindLoaded {
		t.Fatalf("worker replied with frame kind %d, want %d (loaded)", reply.Kind, worker.KindLoaded)
	}
	return proc.cmd.Process.Pid, socket
}

// openDescriptors returns what each open descriptor of process pid links
// to, by descriptor.
func openDescriptors(t *testing.T, pid int) map[int]string {
	t.Helper()
	folder := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}

	open := map[int]string{}
	for _, entry := range entries {
		fd, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink(filepath.Join(folder, entry.Name()))
		if err != nil {
			t.Fatal(err)
		}
		open[fd] = target
	}
	return open
}

func TestWorkerClosesInheritedDescriptors(t *testing.T) {
	// A pipe without FD_CLOEXEC in the edge stands for a descriptor that
	// the edge's parent passed on: exec.Cmd hands it to every worker.
	var inherited [2]int
	if err := syscall.Pipe2(inherited[:], 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Close(inherited[0])
		_ = syscall.Close(inherited[1])
	})
	pipeTarget, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", inherited[0]))
	if err != nil {
		t.Fatal(err)
	}

	pid := startLoadedWorker(t)

	open := openDescriptors(t, pid)
	for fd, target := range open {
		if target == pipeTarget {
			t.Errorf("worker keeps the inherited pipe %s as descriptor %d", target, fd)
		}
	}
	if target := open[3]; !strings.HasPrefix(target, "socket:") {
		t.Errorf("worker descriptor 3 is %q, want its socket", target)
	}
	for _, fd := range []int{0, 1, 2} {
		if _, ok := open[fd]; !ok {
			t.Errorf("worker closed its standard descriptor %d", fd)
		}
	}
}

func TestWorkerSetsNoNewPrivs(t *testing.T) {
	pid := startLoadedWorker(t)

	if got := statusField(t, fmt.Sprintf("/proc/%d/status", pid), "NoNewPrivs"); got != "1" {
		t.Errorf("worker's main thread has NoNewPrivs %q, want 1", got)
	}

	// The worker is this test binary, so it reaches every thread unless
	// the binary links cgo, as a race detector build does.
	if _, _, errno := syscall.AllThreadsSyscall(syscall.SYS_GETPID, 0, 0, 0); errno == syscall.ENOTSUP {
		t.Log("the binary links cgo, so only the main thread is checked")
		return
	}
	for _, status := range threadStatusFiles(t, pid) {
		if got := statusField(t, status, "NoNewPrivs"); got != "1" {
			t.Errorf("worker thread %s has NoNewPrivs %q, want 1", status, got)
		}
	}
}

// threadStatusFiles returns the /proc status file of each thread of the
// process pid.
func threadStatusFiles(t *testing.T, pid int) []string {
	t.Helper()
	threads, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(threads) == 0 {
		t.Fatalf("list the worker's threads: %v, %d found", err, len(threads))
	}
	return threads
}

// statusField returns the value of field in a /proc status file.
func statusField(t *testing.T, path, field string) string {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	lines := bufio.NewScanner(file)
	for lines.Scan() {
		if value, found := strings.CutPrefix(lines.Text(), field+":"); found {
			return strings.TrimSpace(value)
		}
	}
	t.Fatalf("%s has no %s field: %v", path, field, lines.Err())
	return ""
}

// TestWorkerInstallsSeccompFilter checks that every thread of a real
// worker runs under a seccomp filter (Seccomp: 2). The filter is synced to
// all threads by the kernel, so this holds in a race detector build too.
func TestWorkerInstallsSeccompFilter(t *testing.T) {
	pid := startLoadedWorker(t)

	for _, status := range threadStatusFiles(t, pid) {
		if got := statusField(t, status, "Seccomp"); got != "2" {
			t.Errorf("worker thread %s has Seccomp %q, want 2 (filter mode)", status, got)
		}
	}
}
