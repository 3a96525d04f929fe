package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"portcullis.dev/plugins-marketplace/worker"
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
// may write, with memory.max set to limit plus worker.DataOverhead bytes
// when limit is above zero.
// An empty parent returns nil, and the worker's own RLIMIT_DATA is then its
// only hard memory bound. checkCgroupParent checks parent beforehand.
//
// A host that binds memory to cgroup v1 runs this only with limit 0. The
// memory.max write and its enforcement run in the virtual machine of
// infra/vmtest/cgroup-v2.sh (make vm-test).
func newCgroup(parent string, limit int64) (*cgroup, error) {
	if parent == "" {
		return nil, nil
	}

	path := filepath.Join(parent, fmt.Sprintf("portcullis-worker-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(path, 0o755); err != nil {
		return nil, fmt.Errorf("create worker cgroup under %q: %w: set the cgroup parent to a cgroup v2 folder the edge may write, or leave it empty", parent, err)
	}
	if limit > 0 {
		// The Go runtime's own mappings come on top of the heap limit, as
		// with RLIMIT_DATA.
		value := []byte(strconv.FormatInt(limit+worker.DataOverhead, 10))
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

// checkCgroupParent checks that parent is a cgroup v2 directory whose
// children can get memory.max set to limit bytes. That needs the memory
// controller listed in the parent's cgroup.controllers and enabled in its
// cgroup.subtree_control. A limit of zero needs no controller.
func checkCgroupParent(parent string, limit int64) error {
	const fallback = "or leave the cgroup parent empty to bound each worker with its own RLIMIT_DATA"
	if runtime.GOOS != "linux" {
		return fmt.Errorf("plugin worker cgroup parent %q (--plugin-cgroup, sandbox.Config.CgroupParent) is set, but worker cgroups need Linux: leave the cgroup parent empty", parent)
	}

	available, err := readControllers(parent, "cgroup.controllers")
	if err != nil {
		return fmt.Errorf("plugin worker cgroup parent %q (--plugin-cgroup, sandbox.Config.CgroupParent) is not a cgroup v2 directory: %w: set it to a directory on a cgroup2 mount that the edge may write, %s", parent, err, fallback)
	}
	if limit <= 0 {
		return nil
	}
	if !slices.Contains(available, "memory") {
		return fmt.Errorf("plugin worker cgroup parent %q (--plugin-cgroup, sandbox.Config.CgroupParent) cannot set memory.max for the memory limit of %d bytes, because its cgroup.controllers lists %q, without memory: enable the memory controller for this subtree (a host that mounts cgroup v1 may have bound it to a v1 hierarchy), %s",
			parent, limit, strings.Join(available, " "), fallback)
	}

	enabled, err := readControllers(parent, "cgroup.subtree_control")
	if err != nil {
		return fmt.Errorf("plugin worker cgroup parent %q (--plugin-cgroup, sandbox.Config.CgroupParent): %w: let the edge read it, %s", parent, err, fallback)
	}
	if !slices.Contains(enabled, "memory") {
		return fmt.Errorf("plugin worker cgroup parent %q (--plugin-cgroup, sandbox.Config.CgroupParent) cannot set memory.max for the memory limit of %d bytes, because memory is not enabled in its cgroup.subtree_control: write \"+memory\" to %q, %s",
			parent, limit, filepath.Join(parent, "cgroup.subtree_control"), fallback)
	}
	return nil
}

// readControllers returns the controller names in the file name of the
// cgroup directory dir, such as cgroup.controllers.
func readControllers(dir, name string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return strings.Fields(string(data)), nil
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
