package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/portal/store"
)

// childCompileCommand is the hidden "portcullis plugin" command that the
// child process of "plugin check-stored" runs. It reads compileRequests
// from stdin and writes one compileResult per request to stdout.
const childCompileCommand = "compile-child"

// compileRequest is one version that the child compiles.
type compileRequest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source"`
}

// compileResult is the child's result for one compileRequest.
type compileResult struct {
	// Error is the compile error, such as "line 3, column 5: message", or
	// empty when the version compiles.
	Error string `json:"error,omitempty"`
}

// compileStoredVersions compiles each version in child processes and
// returns its compile error at its index, or "" for a version that
// compiles. A version that ends its child process, or that takes longer
// than timeout, fails with the cause, and a new child compiles the
// versions after it. The error reports a child that could not run.
func compileStoredVersions(versions []store.StoredVersion, timeout time.Duration) ([]string, error) {
	executable, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the portcullis executable to compile the versions in: %w", err)
	}

	failures := make([]string, len(versions))
	for next := 0; next < len(versions); {
		reported, crash, err := compileInChild(executable, versions[next:], failures[next:], timeout)
		if err != nil {
			return nil, err
		}
		next += reported
		if crash != "" && next < len(versions) {
			failures[next] = crash
			next++
		}
	}
	return failures, nil
}

// compileInChild compiles versions in one child process of this
// executable, run as "portcullis plugin compile-child", and stores each
// compile error in failures. It returns the count of versions whose
// results the child reported. When the child ended or was stopped before it
// reported every result, crash describes why, and the version after
// the reported ones caused it. err reports a child that could not start,
// failed by itself or wrote output that is not results.
func compileInChild(executable string, versions []store.StoredVersion, failures []string, timeout time.Duration) (reported int, crash string, err error) {
	child := exec.Command(executable, "plugin", childCompileCommand)
	stdin, err := child.StdinPipe()
	if err != nil {
		return 0, "", fmt.Errorf("connect to the process that compiles the versions: %w", err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		return 0, "", fmt.Errorf("connect to the process that compiles the versions: %w", err)
	}
	childStderr := &stderrCapture{}
	child.Stderr = childStderr
	if err := child.Start(); err != nil {
		return 0, "", fmt.Errorf("start the process that compiles the versions: %w", err)
	}

	// The requests go out while the results come in, because a pipe holds
	// only a few sources.
	go sendCompileRequests(stdin, versions)
	results := make(chan compileResult)
	readErr := make(chan error, 1)
	go readCompileResults(stdout, results, readErr)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	expired := timer.C
	end := childEnd{timeout: timeout}
	for collecting := true; collecting; {
		select {
		case result, ok := <-results:
			switch {
			case !ok:
				collecting = false
			case reported == len(versions):
				end.extra = true
			default:
				failures[reported] = result.Error
				reported++
				timer.Reset(timeout)
			}
		case <-expired:
			// Killing the child ends its output, which closes results.
			end.timedOut = true
			expired = nil
			_ = child.Process.Kill()
		}
	}

	end.outputErr = <-readErr
	if end.outputErr != nil {
		_ = child.Process.Kill()
	}
	waitErr := child.Wait()
	return judgeChild(reported, len(versions), waitErr, childStderr, end)
}

// childEnd is the record of how a compile child ended, besides its exit
// status.
type childEnd struct {
	timedOut  bool
	timeout   time.Duration
	extra     bool
	outputErr error
}

// judgeChild returns the results of compileInChild from how the child
// ended, after it had reported the results of the first reported of total
// versions.
func judgeChild(reported, total int, waitErr error, childStderr *stderrCapture, end childEnd) (int, string, error) {
	switch {
	case end.outputErr != nil:
		return reported, "", fmt.Errorf("read the results of the process that compiles the versions: %w", end.outputErr)
	case end.extra:
		return reported, "", fmt.Errorf("the process that compiles the versions sent more results than the %d versions it got", total)
	case end.timedOut:
		return reported, fmt.Sprintf("the compile timed out after %s, so its process was stopped: raise --compile-timeout when the version is large", end.timeout), nil
	}

	var exitErr *exec.ExitError
	switch {
	case waitErr == nil && reported == total:
		return reported, "", nil
	case waitErr == nil:
		return reported, "", fmt.Errorf("the process that compiles the versions exited after %d of %d versions", reported, total)
	case errors.As(waitErr, &exitErr) && exitErr.ExitCode() == 1:
		// The child exits with 1 by itself only, after it printed why.
		return reported, "", fmt.Errorf("the process that compiles the versions failed: %s", strings.TrimSpace(string(childStderr.head)))
	case errors.As(waitErr, &exitErr) && reported < total:
		return reported, "the version's source ended the process that compiled it: " + childStderr.summary(exitErr.ProcessState), nil
	case errors.As(waitErr, &exitErr):
		return reported, "", fmt.Errorf("the process that compiles the versions ended with %s after it compiled every version", childStderr.summary(exitErr.ProcessState))
	}
	return reported, "", fmt.Errorf("run the process that compiles the versions: %w", waitErr)
}

// sendCompileRequests writes one request per version to the child's stdin
// and closes it. It stops at the first failed write, which means that the
// child has ended.
func sendCompileRequests(stdin io.WriteCloser, versions []store.StoredVersion) {
	defer stdin.Close()
	encoder := json.NewEncoder(stdin)
	for _, version := range versions {
		if err := encoder.Encode(compileRequest{Name: version.Name, Version: version.Version, Source: version.Source}); err != nil {
			return
		}
	}
}

// readCompileResults sends each result that the child writes, then closes
// results and sends the read error: nil at the end of the output, also
// when it ends inside a result because the child ended.
func readCompileResults(stdout io.Reader, results chan<- compileResult, readErr chan<- error) {
	defer close(results)
	decoder := json.NewDecoder(stdout)
	for {
		var result compileResult
		err := decoder.Decode(&result)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			readErr <- nil
			return
		}
		if err != nil {
			readErr <- err
			return
		}
		results <- result
	}
}

// runChildCompile compiles each version that it reads from stdin in this
// process, under the limits of a plugin worker, and writes its result as
// soon as it is known, so the results before a crash reach the parent.
func runChildCompile(stdin io.Reader, stdout, stderr io.Writer) int {
	if err := worker.ApplyLimits(worker.DefaultMemoryLimit, worker.DefaultMaxStack, 0); err != nil {
		fmt.Fprintf(stderr, "limit the process that compiles the versions: %v\n", err)
		return 1
	}

	decoder := json.NewDecoder(stdin)
	encoder := json.NewEncoder(stdout)
	for {
		var request compileRequest
		err := decoder.Decode(&request)
		if errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "read the versions to compile: %v\n", err)
			return 1
		}

		var result compileResult
		if _, err := pluginhost.Compile(request.Name, request.Version, request.Source); err != nil {
			result.Error = err.Error()
		}
		if err := encoder.Encode(result); err != nil {
			fmt.Fprintf(stderr, "write the result of plugin %q version %q: %v\n", request.Name, request.Version, err)
			return 1
		}
	}
}
