package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stderrKeep is how many bytes of a worker's stderr the edge keeps from the
// start and from the end, for the log line of a worker that failed. The Go
// runtime prints the cause ("fatal error: out of memory") first and the
// goroutine traces after it.
const stderrKeep = 1 << 10

// process is one running worker process and its private folder.
type process struct {
	cmd     *exec.Cmd
	dir     string
	cgroup  *cgroup
	stderr  *stderrLog
	started time.Time

	// exited is closed once the process ended and state is set.
	exited chan struct{}
	state  *os.ProcessState
	err    error
}

// startProcess starts a worker with the limits of cfg and returns it with
// the edge's end of its socket. The worker gets the socket as descriptor 3,
// no other descriptor besides stdin (empty), stdout and stderr, an empty
// environment, and a new empty working folder.
func startProcess(cfg *Config) (*process, net.Conn, error) {
	edgeFile, workerFile, err := socketPair()
	if err != nil {
		return nil, nil, err
	}
	defer workerFile.Close()
	conn, err := net.FileConn(edgeFile)
	_ = edgeFile.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("open worker socket: %w", err)
	}

	dir, err := os.MkdirTemp(cfg.Dir, "plugin-worker-")
	if err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("create worker folder: %w", err)
	}

	p := &process{dir: dir, stderr: &stderrLog{}, exited: make(chan struct{})}
	args := append(append([]string(nil), cfg.Command[1:]...),
		"-memory-limit", strconv.FormatInt(cfg.MemoryLimit, 10),
		"-procs", strconv.Itoa(cfg.Procs),
		"-gc-percent", strconv.Itoa(cfg.GCPercent))
	if cfg.User != nil {
		args = append(args, "-user", cfg.User.String())
	}
	p.cmd = exec.Command(cfg.Command[0], args...)
	p.cmd.Env = []string{}
	p.cmd.Dir = dir
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	p.cmd.ExtraFiles = []*os.File{workerFile}
	group, err := newCgroup(cfg.CgroupParent, cfg.MemoryLimit)
	if err != nil {
		_ = conn.Close()
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	p.cgroup = group
	p.cmd.SysProcAttr = procAttr(group.fd())

	err = p.cmd.Start()
	group.closeFD()
	if err != nil {
		group.remove()
		_ = conn.Close()
		_ = os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("start plugin worker %q: %w", cfg.Command[0], err)
	}
	p.started = time.Now()
	go p.wait()
	return p, conn, nil
}

// socketPair returns the two ends of a connected Unix stream socket. Both
// are close-on-exec; exec.Cmd passes the worker's end on as descriptor 3.
func socketPair() (edge, worker *os.File, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("create worker socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "worker-socket"), os.NewFile(uintptr(fds[1]), "edge-socket"), nil
}

func (p *process) wait() {
	p.err = p.cmd.Wait()
	p.state = p.cmd.ProcessState
	_ = os.RemoveAll(p.dir)
	p.cgroup.remove()
	close(p.exited)
}

// kill ends the process at once.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
}

// exitCause describes how the process ended, with its stderr.
func (p *process) exitCause() string {
	status := p.exitStatus()
	if output := p.stderr.String(); output != "" {
		return fmt.Sprintf("%s, stderr: %s", status, output)
	}
	return status
}

// exitStatus waits for the worker to end and returns its exit status.
func (p *process) exitStatus() string {
	<-p.exited
	if p.state != nil {
		return p.state.String()
	}
	if p.err != nil {
		return p.err.Error()
	}
	return "exited"
}

// exitSummary returns the worker's exit status, with the line of a Go
// crash report that names the cause when there is one, but no other
// output.
func (p *process) exitSummary() string {
	status := p.exitStatus()
	if crash := p.stderr.crashLine(); crash != "" {
		return status + ": " + crash
	}
	return status
}

// ExitError is the error of the calls on a worker that failed.
type ExitError struct {
	Tenant string
	// Cause is the worker's exit status and the output it wrote, for logs.
	Cause string
	// Summary is the worker's exit status and the line of a Go crash
	// report that names the cause, such as "exit status 2: fatal error:
	// stack overflow", short enough for an API response.
	Summary string
}

// Error names the worker's exit by its Summary. Each call in flight on the
// worker fails with this error, and every failed hook is logged, so the
// whole output in Cause goes only into the one log line of the worker's
// exit.
func (e *ExitError) Error() string {
	summary := e.Summary
	if summary == "" {
		summary = e.Cause
	}
	return fmt.Sprintf("plugin worker of tenant %q failed: %s", e.Tenant, summary)
}

// stderrLog keeps the first and the last stderrKeep bytes written to it,
// and the first line that starts a Go runtime crash report.
type stderrLog struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped bool
	crash   string
	// crashOpen is set while the crash line's end has not been written.
	crashOpen bool
}

// crashMarkers start the line that names the cause in a Go crash report.
var crashMarkers = [][]byte{[]byte("fatal error: "), []byte("panic: ")}

func (l *stderrLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	n := len(p)
	l.noteCrash(p)
	if room := stderrKeep - len(l.head); room > 0 {
		take := min(room, len(p))
		l.head = append(l.head, p[:take]...)
		p = p[take:]
	}
	l.tail = append(l.tail, p...)
	if over := len(l.tail) - stderrKeep; over > 0 {
		l.tail = append(l.tail[:0], l.tail[over:]...)
		l.dropped = true
	}
	return n, nil
}

// noteCrash records the first line of p that starts with a crash marker,
// and completes a recorded line that the previous write cut short. A
// marker split across two writes is missed. The caller holds mu.
func (l *stderrLog) noteCrash(p []byte) {
	if l.crashOpen {
		end := bytes.IndexByte(p, '\n')
		if end < 0 {
			end = len(p)
		} else {
			l.crashOpen = false
		}
		l.crash += string(p[:min(end, maxCrashLine-len(l.crash))])
		return
	}
	if l.crash != "" {
		return
	}

	for _, marker := range crashMarkers {
		start := bytes.Index(p, marker)
		if start < 0 {
			continue
		}
		line := p[start:]
		end := bytes.IndexByte(line, '\n')
		if end >= 0 {
			line = line[:end]
		}
		l.crash = string(line[:min(len(line), maxCrashLine)])
		l.crashOpen = end < 0
		return
	}
}

// maxCrashLine bounds the crash line that a stderrLog keeps, in bytes.
const maxCrashLine = 200

// crashLine returns the line of a Go crash report that names the cause,
// or "".
func (l *stderrLog) crashLine() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.crash)
}

// String returns the crash line, when there is one, then what was kept,
// with " ... " where bytes were dropped.
func (l *stderrLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()

	var out bytes.Buffer
	if l.crash != "" && l.dropped {
		out.WriteString(l.crash)
		out.WriteString(" | ")
	}
	out.Write(l.head)
	if l.dropped {
		out.WriteString(" ... ")
	}
	out.Write(l.tail)
	return string(bytes.TrimSpace(out.Bytes()))
}

// errWorkerGone matches the cause of calls on a worker that the pool
// stopped (a *capacityError).
var errWorkerGone = errors.New("plugin worker was stopped")
