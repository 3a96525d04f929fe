package sandbox

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobody is the user and group that the tests run workers as.
var nobody = &User{UID: 65534, GID: 65534}

// needRoot skips a test that starts workers as another user.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("starting workers as another user needs a test that runs as root")
	}
}

func TestWorkerSwitchesUser(t *testing.T) {
	needRoot(t)

	pid, _ := startLoadedWorkerAs(t, nobody, t.TempDir())

	for _, status := range threadStatusFiles(t, pid) {
		for field, want := range map[string]string{
			"Uid":    "65534\t65534\t65534\t65534",
			"Gid":    "65534\t65534\t65534\t65534",
			"Groups": "",
			"CapEff": "0000000000000000",
			"CapPrm": "0000000000000000",
		} {
			if got := statusField(t, status, field); got != want {
				t.Errorf("worker thread %s has %s %q, want %q", status, field, got, want)
			}
		}
	}
}

// edgeChildEnv makes the test binary an edge that starts one worker as
// nobody, with its folder in the folder that the variable names. The edge
// passes its end of the worker's socket to a process that holds it open,
// prints "worker PID" and "holder PID" and waits to be killed.
const edgeChildEnv = "PORTCULLIS_TEST_EDGE_STARTS_WORKER"

// TestWorkerWithUserEndsWithEdge checks that a worker that switched its
// user still ends when its edge dies: the kernel clears the parent death
// signal when a process changes its user, and the worker sets it again.
// Another process holds the socket open, so the worker reads no end of file.
func TestWorkerWithUserEndsWithEdge(t *testing.T) {
	if dir := os.Getenv(edgeChildEnv); dir != "" {
		runEdgeChild(t, dir)
		return
	}
	needRoot(t)

	edge := exec.Command(os.Args[0], "-test.run=^TestWorkerWithUserEndsWithEdge$")
	edge.Env = append(os.Environ(), edgeChildEnv+"="+t.TempDir())
	edge.Stderr = os.Stderr
	stdout, err := edge.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := edge.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	pid := childPID(t, lines, "worker")
	holder := childPID(t, lines, "holder")
	t.Cleanup(func() { _ = syscall.Kill(holder, syscall.SIGKILL) })

	_ = edge.Process.Kill()
	_ = edge.Wait()

	deadline := time.Now().Add(10 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d still runs 10 s after its edge was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runEdgeChild is the edge child's side of TestWorkerWithUserEndsWithEdge.
func runEdgeChild(t *testing.T, dir string) {
	pid, socket := startLoadedWorkerAs(t, nobody, dir)
	file, err := socket.(*net.UnixConn).File()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("sleep", "60")
	holder.ExtraFiles = []*os.File{file}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("worker %d\nholder %d\n", pid, holder.Process.Pid)
	select {}
}

// childPID reads the next line of lines, "NAME PID", and returns PID.
func childPID(t *testing.T, lines *bufio.Scanner, name string) int {
	t.Helper()
	if !lines.Scan() {
		t.Fatalf("edge child printed no %s process id: %v", name, lines.Err())
	}
	text, found := strings.CutPrefix(lines.Text(), name+" ")
	pid, err := strconv.Atoi(text)
	if !found || err != nil {
		t.Fatalf("edge child printed %q, want %q and a process id", lines.Text(), name)
	}
	return pid
}

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	return !strings.Contains(string(status), "State:\tZ")
}
