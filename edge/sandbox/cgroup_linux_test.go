package sandbox

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// cgroup2Magic is the file system type that statfs(2) reports for a
// cgroup2 mount (CGROUP2_SUPER_MAGIC in linux/magic.h).
const cgroup2Magic = 0x63677270

// cgroup2Mount is a writable cgroup2 mount.
type cgroup2Mount struct {
	// point is the mount point, such as /sys/fs/cgroup.
	point string
	// root is the cgroup path of the mount point, as /proc/PID/cgroup
	// shows it.
	root string
}

// findCgroup2Mount returns the first writable cgroup2 mount listed in
// /proc/self/mountinfo or, when that file cannot be read, the first usual
// mount point that statfs reports as cgroup2.
func findCgroup2Mount() (cgroup2Mount, bool) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err == nil {
		return parseCgroup2Mount(string(data))
	}

	for _, point := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var stat syscall.Statfs_t
		if syscall.Statfs(point, &stat) == nil && stat.Type == cgroup2Magic {
			return cgroup2Mount{point: point, root: "/"}, true
		}
	}
	return cgroup2Mount{}, false
}

// mountinfoEscapes undoes the octal escapes of path fields in mountinfo.
var mountinfoEscapes = strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)

// parseCgroup2Mount returns the first cgroup2 mount with the rw option in
// mountinfo. Each line has the fields mount ID, parent ID, major:minor,
// root, mount point, mount options, optional fields, "-", file system
// type, source and super options (proc_pid_mountinfo(5)).
func parseCgroup2Mount(mountinfo string) (cgroup2Mount, bool) {
	for line := range strings.Lines(mountinfo) {
		fields := strings.Fields(line)
		separator := slices.Index(fields, "-")
		if separator < 6 || separator+1 >= len(fields) || fields[separator+1] != "cgroup2" {
			continue
		}
		if !slices.Contains(strings.Split(fields[5], ","), "rw") {
			continue
		}
		return cgroup2Mount{root: mountinfoEscapes.Replace(fields[3]), point: mountinfoEscapes.Replace(fields[4])}, true
	}
	return cgroup2Mount{}, false
}

// newTestCgroup creates an empty cgroup named portcullis-test-* at the top
// of a writable cgroup2 mount and removes it, with any child cgroups left
// in it, when the test ends. It skips the test when it cannot create one.
func newTestCgroup(t *testing.T) (cgroup2Mount, string) {
	t.Helper()
	mount, ok := findCgroup2Mount()
	if !ok {
		t.Skip("no writable cgroup2 mount in /proc/self/mountinfo")
	}
	dir, err := os.MkdirTemp(mount.point, "portcullis-test-")
	if err != nil {
		t.Skipf("cannot create a cgroup under the cgroup2 mount %q: %v", mount.point, err)
	}

	t.Cleanup(func() {
		for _, child := range childCgroups(t, dir) {
			_ = syscall.Rmdir(child)
		}
		if err := syscall.Rmdir(dir); err != nil {
			t.Errorf("remove test cgroup %q: %v", dir, err)
		}
	})
	return mount, dir
}

// childCgroups returns the paths of the child cgroups of dir.
func childCgroups(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Errorf("list cgroup %q: %v", dir, err)
		return nil
	}
	var children []string
	for _, entry := range entries {
		if entry.IsDir() {
			children = append(children, filepath.Join(dir, entry.Name()))
		}
	}
	return children
}

// controllersOf returns the controllers listed in the cgroup file name of
// dir, such as cgroup.controllers.
func controllersOf(t *testing.T, dir, name string) []string {
	t.Helper()
	controllers, err := readControllers(dir, name)
	if err != nil {
		t.Fatalf("cgroup %q: %v", dir, err)
	}
	return controllers
}

// workerProcess returns the process of the tenant's running worker.
func workerProcess(t *testing.T, pool *Pool, tenantName string) *process {
	t.Helper()
	pool.mu.Lock()
	tenant := pool.tenants[tenantName]
	pool.mu.Unlock()
	if tenant == nil {
		t.Fatalf("pool has no tenant %q", tenantName)
	}

	tenant.mu.Lock()
	defer tenant.mu.Unlock()
	if tenant.w == nil {
		t.Fatalf("tenant %q has no running worker", tenantName)
	}
	return tenant.w.proc
}

// cgroupV2Path returns the cgroup v2 path of process pid, the line "0::PATH"
// of /proc/PID/cgroup.
func cgroupV2Path(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatalf("read cgroups of worker %d: %v", pid, err)
	}
	for line := range strings.Lines(string(data)) {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return strings.TrimSpace(path)
		}
	}
	t.Fatalf("/proc/%d/cgroup has no cgroup v2 line:\n%s", pid, data)
	return ""
}

func TestParseCgroup2Mount(t *testing.T) {
	mountinfo := "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
		"40 31 0:37 / /sys/fs/cgroup/ro ro,relatime - cgroup2 cgroup2 ro\n" +
		"41 31 0:38 /edge /sys/fs/cgroup/my\\040cgroups rw,relatime shared:9 - cgroup2 cgroup2 rw\n"

	mount, ok := parseCgroup2Mount(mountinfo)
	if !ok {
		t.Fatal("no cgroup2 mount found, want the rw one")
	}
	if mount.point != "/sys/fs/cgroup/my cgroups" {
		t.Errorf("mount point = %q, want %q", mount.point, "/sys/fs/cgroup/my cgroups")
	}
	if mount.root != "/edge" {
		t.Errorf("root = %q, want %q", mount.root, "/edge")
	}
}

func TestCheckCgroupParent(t *testing.T) {
	tests := []struct {
		desc        string
		controllers string // cgroup.controllers, or "none" for no file
		subtree     string
		limit       int64
		wantErr     string // "" for no error
	}{
		{desc: "not a cgroup", controllers: "none", limit: 64 << 20, wantErr: "is not a cgroup v2 directory"},
		{desc: "no limit needs no memory", controllers: "cpu io", limit: 0},
		{desc: "memory not offered", controllers: "cpu io", subtree: "cpu", limit: 64 << 20, wantErr: `its cgroup.controllers lists "cpu io", without memory`},
		{desc: "memory not enabled", controllers: "cpu memory", subtree: "cpu", limit: 64 << 20, wantErr: `write "+memory" to`},
		{desc: "memory enabled", controllers: "cpu memory", subtree: "cpu memory", limit: 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			dir := t.TempDir()
			if tt.controllers != "none" {
				writeTestFile(t, filepath.Join(dir, "cgroup.controllers"), tt.controllers+"\n")
				writeTestFile(t, filepath.Join(dir, "cgroup.subtree_control"), tt.subtree+"\n")
			}

			err := checkCgroupParent(dir, tt.limit)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("checkCgroupParent: %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkCgroupParent returned no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), strconv.Quote(dir)) {
				t.Errorf("error = %q, want it to name the directory %q", err, dir)
			}
			if !strings.Contains(err.Error(), "leave the cgroup parent empty") {
				t.Errorf("error = %q, want it to offer an empty cgroup parent", err)
			}
		})
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNewRejectsCgroupWithoutMemory runs against a real cgroup. A new cgroup
// has an empty cgroup.subtree_control, so New always rejects it: for the
// missing memory controller where the host binds memory to cgroup v1, and
// for the memory controller not enabled otherwise.
func TestNewRejectsCgroupWithoutMemory(t *testing.T) {
	_, parent := newTestCgroup(t)
	executable, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	_, err = New(Config{Command: []string{executable, "worker"}, CgroupParent: parent})
	if err == nil {
		t.Fatalf("New accepted CgroupParent %q with an empty cgroup.subtree_control", parent)
	}
	message := err.Error()
	if !strings.Contains(message, strconv.Quote(parent)) {
		t.Errorf("error = %q, want it to name %q", message, parent)
	}
	if want := "memory limit of " + strconv.Itoa(worker.DefaultMemoryLimit) + " bytes"; !strings.Contains(message, want) {
		t.Errorf("error = %q, want it to contain %q", message, want)
	}
	if !strings.Contains(message, "leave the cgroup parent empty") {
		t.Errorf("error = %q, want it to offer an empty cgroup parent", message)
	}

	want := `write "+memory" to`
	if !slices.Contains(controllersOf(t, parent, "cgroup.controllers"), "memory") {
		want = "enable the memory controller for this subtree"
	}
	if !strings.Contains(message, want) {
		t.Errorf("error = %q, want it to contain %q", message, want)
	}
	if children := childCgroups(t, parent); len(children) > 0 {
		t.Errorf("New created cgroups %q, want none", children)
	}
}

func TestCgroupWorkerRunsInChildCgroup(t *testing.T) {
	mount, parent := newTestCgroup(t)
	pool, _ := newPool(t, Config{})
	// New fills in MemoryLimit and then rejects a CgroupParent without the
	// memory controller, so the fields are set after New. MemoryLimit 0
	// makes the pool write no memory.max and the worker set no memory limits.
	pool.cfg.CgroupParent = parent
	pool.cfg.MemoryLimit = 0

	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource)})
	if errors.Is(err, syscall.ENOSYS) {
		t.Skipf("this kernel cannot start a process in a cgroup, which needs clone3 with CLONE_INTO_CGROUP (Linux 5.7): %v", err)
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	proc := workerProcess(t, pool, "acme")
	if proc.cgroup == nil {
		t.Fatal("worker has no cgroup, want a child of the test cgroup")
	}
	child := proc.cgroup.path
	if filepath.Dir(child) != parent {
		t.Fatalf("worker cgroup = %q, want a child of %q", child, parent)
	}

	pid := proc.cmd.Process.Pid
	relative, err := filepath.Rel(mount.point, child)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cgroupV2Path(t, pid), filepath.Join(mount.root, relative); got != want {
		t.Errorf("/proc/%d/cgroup lists cgroup v2 path %q, want %q", pid, got, want)
	}
	procs, err := os.ReadFile(filepath.Join(child, "cgroup.procs"))
	if err != nil {
		t.Fatalf("read processes of the worker cgroup: %v", err)
	}
	if got := strings.Fields(string(procs)); !slices.Equal(got, []string{strconv.Itoa(pid)}) {
		t.Errorf("cgroup.procs of %q = %q, want only the worker %d", child, got, pid)
	}

	if got := runMark(t, set); got != "a" {
		t.Errorf("X-Order = %q, want %q", got, "a")
	}

	pool.Close()
	if _, err := os.Stat(child); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("worker cgroup %q after the worker stopped: stat error %v, want it removed", child, err)
	}
	if children := childCgroups(t, parent); len(children) > 0 {
		t.Errorf("cgroups %q remain after the pool closed, want none", children)
	}
}

// TestCgroupMemoryMaxBoundsWorker needs the memory controller in the test
// cgroup's cgroup.controllers. It enables memory in that cgroup's own
// cgroup.subtree_control, so a worker's child cgroup gets memory.max. On a
// host that binds memory to cgroup v1 it skips, and
// infra/vmtest/cgroup-v2.sh runs it in a virtual machine with cgroup v2.
func TestCgroupMemoryMaxBoundsWorker(t *testing.T) {
	_, parent := newTestCgroup(t)
	if controllers := controllersOf(t, parent, "cgroup.controllers"); !slices.Contains(controllers, "memory") {
		t.Skipf("memory.max cannot be tested: cgroup.controllers of %q lists %q, without memory, as on a host that binds memory to a cgroup v1 hierarchy", parent, strings.Join(controllers, " "))
	}
	writeTestFile(t, filepath.Join(parent, "cgroup.subtree_control"), "+memory")

	const limit = 128 << 20
	pool, logs := newPool(t, Config{CgroupParent: parent, MemoryLimit: limit})
	set, err := pool.Load("acme", []worker.Binding{testBinding("hog", doublingSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	child := workerProcess(t, pool, "acme").cgroup.path
	memoryMax, err := os.ReadFile(filepath.Join(child, "memory.max"))
	if err != nil {
		t.Fatalf("read memory.max of the worker cgroup: %v", err)
	}
	if got, want := strings.TrimSpace(string(memoryMax)), strconv.Itoa(limit+worker.DataOverhead); got != want {
		t.Errorf("memory.max = %q, want %s", got, want)
	}

	step := chain.Step{Binding: "hog", Plugin: "hog", Version: "1.0.0", Remote: set.Step(0)}
	step.Guard = chain.NewSupervisor(nil).Guard("acme", step, 5*time.Second, false)
	if err := chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, exchange()); err == nil {
		t.Error("Run of the hog returned no error, want the worker's failure")
	}
	waitFor(t, "the failure log", func() bool { return strings.Contains(logs.String(), "plugin worker failed") })

	// memory.max and RLIMIT_DATA are both the limit plus DataOverhead, so
	// either may end the hog: an OOM kill counted in the parent's
	// memory.events, which counts its whole subtree, or the Go runtime's
	// "out of memory" when an allocation fails.
	kills := oomKills(t, parent)
	t.Logf("OOM kills in %q: %d; the worker log names \"out of memory\": %v", parent, kills, strings.Contains(logs.String(), "out of memory"))
	if kills == 0 && !strings.Contains(logs.String(), "out of memory") {
		t.Errorf("memory.events of %q records no OOM kill and the worker log no \"out of memory\", want the hog ended at its memory bound; worker log:\n%s", parent, logs.String())
	}
}

// oomKills returns the oom_kill count in memory.events of the cgroup dir.
func oomKills(t *testing.T, dir string) int {
	t.Helper()
	events, err := os.ReadFile(filepath.Join(dir, "memory.events"))
	if err != nil {
		t.Fatalf("read memory.events of %q: %v", dir, err)
	}
	for line := range strings.Lines(string(events)) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), "oom_kill "); ok {
			count, err := strconv.Atoi(value)
			if err != nil {
				t.Fatalf("memory.events of %q: invalid oom_kill %q", dir, value)
			}
			return count
		}
	}
	t.Fatalf("memory.events of %q has no oom_kill line:\n%s", dir, events)
	return 0
}
