package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
)

// cgroupSeq numbers the cgroups that this edge creates.
var cgroupSeq atomic.Int64

// cgroup is a cgroup v2 directory for one worker, with memory.max set. A
// nil *cgroup stands for none, and its methods do nothing.
type cgroup struct {
	path string
	file *os.File
}

// newCgroup creates a child of parent, a cgroup v2 directory that the edge
// may write, with memory.max set to limit bytes. An empty parent returns
// nil: the worker then bounds itself with RLIMIT_AS.
//
// NOTE: this path needs a delegated cgroup v2 subtree; it has not run on a
// machine with cgroup v1, where the edge leaves parent empty.
func newCgroup(parent string, limit int64) (*cgroup, error) {
	if parent == "" {
		return nil, nil
	}

	path := filepath.Join(parent, fmt.Sprintf("portcullis-worker-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(path, 0o755); err != nil {
		return nil, fmt.Errorf("create worker cgroup under %q: %w: set the cgroup parent to a cgroup v2 folder the edge may write, or leave it empty", parent, err)
	}
	if limit > 0 {
		value := []byte(strconv.FormatInt(limit, 10))
		if err := os.WriteFile(filepath.Join(path, "memory.max"), value, 0o644); err != nil {
			_ = os.Remove(path)
			return nil, fmt.Errorf("set memory.max of worker cgroup %q: %w", path, err)
		}
	}

	file, err := os.Open(path)
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("open worker cgroup %q: %w", path, err)
	}
	return &cgroup{path: path, file: file}, nil
}

// fd returns the descriptor that starts a process in the cgroup, or 0.
func (c *cgroup) fd() int {
	if c == nil || c.file == nil {
		return 0
	}
	return int(c.file.Fd())
}

// closeFD closes the descriptor once the worker started.
func (c *cgroup) closeFD() {
	if c == nil || c.file == nil {
		return
	}
	_ = c.file.Close()
	c.file = nil
}

// remove deletes the cgroup once its process ended.
func (c *cgroup) remove() {
	if c == nil {
		return
	}
	c.closeFD()
	_ = syscall.Rmdir(c.path)
}
