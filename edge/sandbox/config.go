// Package sandbox runs the hooks of unreviewed plugins in worker processes
// that the edge starts, bounds and restarts, so a script that exhausts
// memory, overflows its stack or crashes the Go runtime ends its worker and
// never the edge. See docs/sandbox.md.
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"portcullis.dev/plugins-marketplace/worker"
)

// Defaults of Config.
const (
	// DefaultMaxWorkers is the number of worker processes an edge runs at
	// once, sized for a small machine: with the default memory limit, 4
	// workers may hold up to 1 GiB of heap.
	DefaultMaxWorkers = 4
	// DefaultIdleTimeout is how long a worker without calls lives.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultPreemptAfter is half the longest hook deadline a binding may
	// set (1 s), and ten times the default one (50 ms).
	DefaultPreemptAfter = 500 * time.Millisecond
	// DefaultCallMargin is added to the sum of a call's step timeouts to
	// give the edge's deadline for the worker's reply. It covers the
	// round trip and the host calls' queueing.
	DefaultCallMargin = 250 * time.Millisecond
	// DefaultKillMargin is how long the edge waits past a call's deadline
	// before it kills a worker that has not replied.
	DefaultKillMargin = time.Second
	// DefaultLoadTimeout bounds the compile and bind of a binding set.
	DefaultLoadTimeout = 10 * time.Second
	// FirstRestartDelay is the wait before the first restart of a worker
	// that failed. Each further failure in a row doubles it, up to
	// MaxRestartDelay. A worker that ran for StableAfter resets it.
	FirstRestartDelay = 100 * time.Millisecond
	MaxRestartDelay   = 30 * time.Second
	StableAfter       = 30 * time.Second
	// stepTimeoutWithoutGuard is the deadline of a step without a timeout.
	stepTimeoutWithoutGuard = time.Second
)

// Config sets how the edge runs plugin workers.
type Config struct {
	// Command starts a worker, such as ["/usr/bin/portcullis", "worker"].
	// The edge appends -memory-limit, -procs, -gc-percent and -user. It is
	// required.
	Command []string
	// MaxWorkers bounds the worker processes running at once. When all
	// are in use, a tenant that needs a worker gets one in place of
	// another tenant's, chosen as docs/sandbox.md ("Sharing the workers")
	// describes, or waits for one within its call's hook deadlines. Zero
	// means DefaultMaxWorkers.
	MaxWorkers int
	// PreemptAfter is how long a worker's oldest call in flight must have
	// run, or how long a worker must have been idle, before a full pool
	// may stop it for another tenant ahead of the least recently used
	// worker. Zero means DefaultPreemptAfter.
	PreemptAfter time.Duration
	// IdleTimeout stops a worker that served no call for this long. Zero
	// means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MemoryLimit is each worker's heap limit in bytes. The worker sets it
	// as its Go memory limit, RLIMIT_DATA to it plus worker.DataOverhead
	// and RLIMIT_AS to it plus worker.AddressSpaceOverhead. A worker
	// cgroup gets memory.max of MemoryLimit plus worker.DataOverhead. Zero
	// means worker.DefaultMemoryLimit (256 MiB).
	MemoryLimit int64
	// Procs bounds the CPUs that one worker runs Go code on at once
	// (GOMAXPROCS). Zero means half the CPUs and at least one.
	Procs int
	// GCPercent is each worker's GOGC. Zero means worker.DefaultGCPercent
	// (400).
	GCPercent int
	// CallMargin and KillMargin: see DefaultCallMargin and
	// DefaultKillMargin. Zero means those.
	CallMargin time.Duration
	KillMargin time.Duration
	// Dir contains the workers' private working folders, each created
	// empty when its worker starts and removed when it ends. Empty means
	// os.TempDir().
	Dir string
	// CgroupParent is a cgroup v2 folder that the edge may write. When set,
	// each worker starts in its own child cgroup with memory.max set to
	// MemoryLimit plus worker.DataOverhead, the room RLIMIT_DATA also
	// leaves for the Go runtime's own mappings. New rejects a folder without the memory controller in
	// its cgroup.controllers and cgroup.subtree_control. Empty leaves
	// RLIMIT_DATA, which the worker sets on itself in either case, as the
	// only hard memory bound.
	CgroupParent string
	// User is the user and group that workers run as, with no
	// supplementary groups: the edge starts each worker with -user, and
	// the worker switches to it before it reads a frame. Nil runs workers
	// as the edge's own user. Another user needs an edge with CAP_SETUID
	// and CAP_SETGID, as root has outside a container.
	User *User
	// Logger receives worker starts, stops and failures. Nil is silent.
	Logger *slog.Logger
}

// User is a numeric user and group id.
type User struct {
	UID, GID uint32
}

func (u *User) String() string {
	return fmt.Sprintf("%d:%d", u.UID, u.GID)
}

// withDefaults checks cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return cfg, errors.New("sandbox config: Command is required, such as [\"portcullis\", \"worker\"]")
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.PreemptAfter <= 0 {
		cfg.PreemptAfter = DefaultPreemptAfter
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = worker.DefaultMemoryLimit
	}
	if cfg.GCPercent <= 0 {
		cfg.GCPercent = worker.DefaultGCPercent
	}
	if cfg.CallMargin <= 0 {
		cfg.CallMargin = DefaultCallMargin
	}
	if cfg.KillMargin <= 0 {
		cfg.KillMargin = DefaultKillMargin
	}
	if cfg.CgroupParent != "" {
		if err := checkCgroupParent(cfg.CgroupParent, cfg.MemoryLimit); err != nil {
			return cfg, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}
