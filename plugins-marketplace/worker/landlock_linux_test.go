package worker

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// Environment of the child process of TestLandlockRules: the folder with
// the file it tries, the parent's TCP port and the parent's abstract Unix
// socket.
const (
	landlockChildEnv = "PORTCULLIS_TEST_LANDLOCK_DIR"
	landlockTCPEnv   = "PORTCULLIS_TEST_LANDLOCK_TCP"
	landlockUnixEnv  = "PORTCULLIS_TEST_LANDLOCK_UNIX"
)

// landlockProbe is a probe that applies from the Landlock ABI version
// minABI on.
type landlockProbe struct {
	probe
	minABI int
}

// landlockProbes are the actions that the child tries once accessRules
// apply. The open descriptor was opened before, so it stays readable.
var landlockProbes = []landlockProbe{
	{probe{"read a file", syscall.EACCES, func(dir string) error {
		_, err := os.ReadFile(filepath.Join(dir, "existing"))
		return err
	}}, 1},
	{probe{"read a system file", syscall.EACCES, func(string) error {
		_, err := os.ReadFile("/etc/passwd")
		return err
	}}, 1},
	{probe{"list a folder", syscall.EACCES, func(dir string) error {
		_, err := os.ReadDir(dir)
		return err
	}}, 1},
	{probe{"read a file from new threads", syscall.EACCES, readFromThreads}, 1},
	{probe{"read a descriptor opened before", 0, readOpenDescriptor}, 1},
	{probe{"connect to a TCP port", syscall.EACCES, func(string) error {
		return dialAndClose("tcp", "127.0.0.1:"+os.Getenv(landlockTCPEnv))
	}}, 4},
	{probe{"connect to an abstract Unix socket", syscall.EPERM, func(string) error {
		return dialAndClose("unix", os.Getenv(landlockUnixEnv))
	}}, 6},
	{probe{"signal the parent", syscall.EPERM, func(string) error { return syscall.Kill(os.Getppid(), 0) }}, 6},
}

// openBefore is a file that the child opens before the rules apply.
var openBefore *os.File

// readFromThreads reads a file from goroutines locked to new threads, and
// returns the first error.
func readFromThreads(dir string) error {
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			runtime.LockOSThread()
			_, errs[i] = os.ReadFile(filepath.Join(dir, "existing"))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func readOpenDescriptor(string) error {
	_, err := openBefore.ReadAt(make([]byte, 1), 0)
	return err
}

func dialAndClose(network, address string) error {
	conn, err := net.Dial(network, address)
	if err == nil {
		_ = conn.Close()
	}
	return err
}

// TestLandlockRules applies the worker's Landlock rules in a child process
// and checks which probes they stop.
func TestLandlockRules(t *testing.T) {
	if dir := os.Getenv(landlockChildEnv); dir != "" {
		runLandlockProbes(dir)
		return
	}
	abi, err := LandlockABI()
	if err != nil {
		t.Skipf("the kernel has no Landlock (Linux 5.13 or later, with landlock in its lsm= list): %v", err)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "existing"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tcp := listen(t, "tcp", "127.0.0.1:0")
	abstract := listen(t, "unix", "@portcullis-landlock-test-"+strconv.Itoa(os.Getpid()))

	run := probeInChild(t, "TestLandlockRules",
		landlockChildEnv+"="+dir,
		landlockTCPEnv+"="+strconv.Itoa(tcp.Addr().(*net.TCPAddr).Port),
		landlockUnixEnv+"="+abstract.Addr().String())
	for _, probe := range landlockProbes {
		if abi < probe.minABI {
			t.Logf("probe %q needs Landlock ABI %d, the kernel has %d", probe.name, probe.minABI, abi)
			continue
		}
		run.check(t, probe.name, probe.want)
	}
}

// listen listens on address until the test ends, and accepts and closes
// each connection.
func listen(t *testing.T, network, address string) net.Listener {
	t.Helper()
	listener, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	return listener
}

// runLandlockProbes is the child's side of TestLandlockRules.
func runLandlockProbes(dir string) {
	var err error
	openBefore, err = os.Open(filepath.Join(dir, "existing"))
	if err != nil {
		panic(err)
	}

	probes := make([]probe, len(landlockProbes))
	for i, p := range landlockProbes {
		probes[i] = p.probe
	}
	runProbes(dir, restrictAccess, probes)
}
