package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Bounds of the child's stderr that testInChild keeps, in bytes. A Go
// crash report starts with the line that names the cause, and the
// goroutine traces follow it.
const (
	maxChildStderr = 64 << 10
	maxCrashLine   = 200
)

// stderrCapture keeps the first maxChildStderr bytes that the child writes
// to its stderr and counts the rest. exec.Cmd writes to it from one
// goroutine and Wait returns after the last write, so it needs no lock.
type stderrCapture struct {
	head    []byte
	dropped int
}

func (c *stderrCapture) Write(p []byte) (int, error) {
	take := min(max(maxChildStderr-len(c.head), 0), len(p))
	c.head = append(c.head, p[:take]...)
	c.dropped += len(p) - take
	return len(p), nil
}

// copyTo writes the output that c keeps to w, and a line with the count of
// the bytes left out when there are any.
func (c *stderrCapture) copyTo(w io.Writer) {
	_, _ = w.Write(c.head)
	if c.dropped > 0 {
		fmt.Fprintf(w, "... %d more bytes of output left out\n", c.dropped)
	}
}

// summary returns the child's exit status, with the line of a Go crash
// report that names the cause when there is one, such as "exit status 2:
// fatal error: stack overflow". It has the form of the Summary of the
// sandbox's ExitError for a plugin worker.
func (c *stderrCapture) summary(state *os.ProcessState) string {
	status := state.String()
	for line := range strings.Lines(string(c.head)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "fatal error: ") || strings.HasPrefix(line, "panic: ") {
			return status + ": " + line[:min(len(line), maxCrashLine)]
		}
	}
	return status
}
