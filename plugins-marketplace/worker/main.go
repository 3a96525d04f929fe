package worker

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Defaults of the limits that a worker applies to itself.
const (
	// DefaultMemoryLimit is the heap a worker may use, in bytes: the Go
	// runtime's soft limit (debug.SetMemoryLimit) and the base of the hard
	// limits below.
	DefaultMemoryLimit = 256 << 20
	// DataOverhead is added to the memory limit for RLIMIT_DATA, the hard
	// bound on the writable memory a worker maps. It covers the Go
	// runtime's own mappings: about 110 MiB of VmData in an idle worker
	// with Go 1.26 on linux/amd64, as /proc/PID/status shows.
	DataOverhead = 256 << 20
	// AddressSpaceOverhead is added to the memory limit for RLIMIT_AS. The
	// Go runtime reserves address space that it never touches, about 1.5
	// GiB in an idle worker (VmPeak), so RLIMIT_AS is only a backstop and
	// RLIMIT_DATA is the bound that ends a script that exhausts memory.
	AddressSpaceOverhead = 4 << 30
	// DefaultGCPercent is the worker's GOGC: the heap grows to five times
	// what the last collection kept before the next one starts. A worker
	// keeps little between calls, so this trades about 15 MiB more
	// resident memory per busy worker for a collector that runs a quarter
	// as often. The memory limit still caps the heap.
	DefaultGCPercent = 400
	// DefaultMaxStack is the largest stack of one goroutine, in bytes, so a
	// hook that recurses without end fails fast with "stack overflow".
	DefaultMaxStack = 64 << 20
	// socketFD is the descriptor of the socket to the edge: the first one
	// after stdin, stdout and stderr.
	socketFD = 3
)

// Main runs a worker process. It closes the descriptors it inherited besides
// stdin, stdout, stderr and descriptor 3, switches to the user of -user,
// confines itself (isolate) and applies its limits. Then it serves frames on the socket that the edge passed as
// descriptor 3 until the edge closes it.
// args are the flags after "worker". It returns the process exit code.
func Main(args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("worker", flag.ContinueOnError)
	flags.SetOutput(stderr)
	memoryLimit := flags.Int64("memory-limit", DefaultMemoryLimit, "heap limit in bytes; RLIMIT_DATA is this plus 256 MiB and RLIMIT_AS this plus 4 GiB; 0 for no limit")
	maxStack := flags.Int("max-stack", DefaultMaxStack, "largest goroutine stack in bytes")
	procs := flags.Int("procs", 0, "CPUs that run Go code at once (GOMAXPROCS), 0 for half the CPUs and at least one")
	gcPercent := flags.Int("gc-percent", DefaultGCPercent, "heap growth in percent that starts a garbage collection (GOGC); 0 for the default")
	userFlag := flags.String("user", "", "UID:GID to run as, with no supplementary groups, which needs a worker started as root; empty keeps the user that started it")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	user, err := parseUser(*userFlag)
	if err != nil {
		fmt.Fprintf(stderr, "worker: %v\n", err)
		return 2
	}

	if err := isolate(socketFD, user); err != nil {
		fmt.Fprintf(stderr, "worker: %v\n", err)
		return 1
	}
	if err := ApplyLimits(*memoryLimit, *maxStack, *procs); err != nil {
		fmt.Fprintf(stderr, "worker: %v\n", err)
		return 1
	}

	socket, err := NewSocket(socketFD, "edge-socket")
	if err != nil {
		fmt.Fprintf(stderr, "worker: descriptor %d is not the edge's socket: %v: start the worker from the edge\n", socketFD, err)
		return 2
	}

	if *gcPercent <= 0 {
		*gcPercent = DefaultGCPercent
	}
	debug.SetGCPercent(*gcPercent)

	err = Serve(NewConn(socket))
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "worker: %v\n", err)
		return 1
	}
	return 0
}

// ApplyLimits gives this process the limits of a plugin worker before any
// plugin code runs. memoryLimit is the Go memory limit and the base of
// RLIMIT_DATA and RLIMIT_AS, and maxStack the largest goroutine stack.
// Zero leaves either unbounded. procs is GOMAXPROCS, and 0 means half the
// CPUs, at least one.
func ApplyLimits(memoryLimit int64, maxStack, procs int) error {
	if memoryLimit > 0 {
		// NOTE: a worker built with the race detector keeps only the soft
		// limit, because ThreadSanitizer cannot start under the hard ones.
		if !raceDetector {
			if err := limitMemory(uint64(memoryLimit)); err != nil {
				return err
			}
		}
		debug.SetMemoryLimit(memoryLimit)
	}
	if maxStack > 0 {
		debug.SetMaxStack(maxStack)
	}
	if procs <= 0 {
		procs = max(1, runtime.NumCPU()/2)
	}
	runtime.GOMAXPROCS(procs)
	return nil
}
