package worker

import (
	"fmt"
	"os"
	"runtime"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// deniedSyscalls are system calls that a worker never makes once it runs
// plugin code: its only channel is its socket to the edge, which serves
// every host function. A script cannot make system calls, so the filter
// matters only if a flaw in Risor or in the host functions lets a script
// run Go code of its choosing. The calls fail with EPERM. Names that the
// architecture lacks (fork and open on arm64, for example) are skipped.
var deniedSyscalls = []string{
	// Running programs, and reading or signaling other processes.
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"tkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
	"process_madvise", "migrate_pages", "setpriority", "ioprio_set", "sched_setaffinity",
	"sched_setscheduler", "sched_setparam", "sched_setattr",
	// New connections, namespaces and mounts.
	"socket", "socketpair", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "fanotify_init",
	// Files: creating, changing or removing them, and handles that bypass paths.
	"creat", "truncate", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat",
	"rmdir", "symlink", "symlinkat", "link", "linkat", "chmod", "fchmod", "fchmodat", "fchmodat2",
	"chown", "fchown", "lchown", "fchownat", "mknod", "mknodat", "open_by_handle_at", "name_to_handle_at",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	"utime", "utimes", "futimesat", "utimensat",
	// The kernel's attack surface beyond what a Go program needs.
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
	"perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
	"keyctl", "add_key", "request_key", "personality", "uselib", "iopl", "ioperm",
	// The machine's state.
	"reboot", "swapon", "swapoff", "acct", "quotactl", "sethostname", "setdomainname",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "syslog",
}

// frequentSyscalls are the calls that a busy worker makes most, in order
// of frequency. The filter compares a call's number with each rule in
// turn, so it allows these first. Every other allowed call passes all the
// denied calls' rules, about 200 comparisons.
var frequentSyscalls = []string{
	"write", "read", "futex", "epoll_pwait", "epoll_wait", "nanosleep", "getpid", "gettid",
	"sched_yield", "madvise", "mmap", "munmap", "rt_sigreturn", "rt_sigprocmask", "clock_gettime",
}

// writeOpenFlags are the open flags that the filter rejects in open and
// openat: a worker opens files only to read them.
var writeOpenFlags = []uint64{unix.O_WRONLY, unix.O_RDWR, unix.O_CREAT, unix.O_TRUNC, unix.O_APPEND}

// namespaceCloneFlags are the clone flags that create namespaces. The Go
// runtime's clone calls for new threads never set them.
var namespaceCloneFlags = []uint64{
	unix.CLONE_NEWUSER, unix.CLONE_NEWNS, unix.CLONE_NEWPID, unix.CLONE_NEWNET,
	unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWCGROUP,
}

// restrictSyscalls installs the worker's seccomp filter on every thread of
// the process (SECCOMP_FILTER_FLAG_TSYNC). Calls not named here are allowed.
func restrictSyscalls() error {
	policy, err := workerPolicy(runtime.GOARCH, os.Getpid())
	if err != nil {
		return err
	}

	filter := seccomp.Filter{NoNewPrivs: true, Flag: seccomp.FilterFlagTSync, Policy: policy}
	if err := seccomp.LoadFilter(filter); err != nil {
		return fmt.Errorf("install the worker's seccomp filter: %w: the kernel must support seccomp filters (Linux 3.17 or later, not disabled by the container runtime)", err)
	}
	return nil
}

// workerPolicy returns the filter's policy for the architecture goarch
// and the worker's process id pid.
func workerPolicy(goarch string, pid int) (seccomp.Policy, error) {
	info, err := arch.GetInfo(goarch)
	if err != nil {
		return seccomp.Policy{}, fmt.Errorf("seccomp filter for architecture %q: %w", goarch, err)
	}

	frequent := seccomp.SyscallGroup{Action: seccomp.ActionAllow, Names: knownSyscalls(info, frequentSyscalls)}
	denied := seccomp.SyscallGroup{Action: seccomp.ActionErrno, Names: knownSyscalls(info, deniedSyscalls)}
	denied.NamesWithCondtions = append(denied.NamesWithCondtions, flagConditions(info, "open", 1, writeOpenFlags)...)
	denied.NamesWithCondtions = append(denied.NamesWithCondtions, flagConditions(info, "openat", 2, writeOpenFlags)...)
	denied.NamesWithCondtions = append(denied.NamesWithCondtions, flagConditions(info, "clone", 0, namespaceCloneFlags)...)

	// The Go runtime signals its own threads with tgkill and raises its
	// own crash signals with kill, always with its own process id. Its
	// prlimit64 calls name the calling process as 0.
	for _, name := range []string{"kill", "tgkill"} {
		denied.NamesWithCondtions = append(denied.NamesWithCondtions, seccomp.NameWithConditions{
			Name:       name,
			Conditions: []seccomp.Condition{{Argument: 0, Operation: seccomp.NotEqual, Value: uint64(pid)}},
		})
	}
	denied.NamesWithCondtions = append(denied.NamesWithCondtions, seccomp.NameWithConditions{
		Name: "prlimit64",
		Conditions: []seccomp.Condition{
			{Argument: 0, Operation: seccomp.NotEqual, Value: 0},
			{Argument: 0, Operation: seccomp.NotEqual, Value: uint64(pid)},
		},
	})

	// clone3 and openat2 take their flags in a struct, which a filter
	// cannot read. They fail with ENOSYS, as on a kernel without them,
	// which makes callers fall back to clone and openat, whose flags the
	// filter checks.
	unsupported := seccomp.SyscallGroup{
		Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS),
		Names:  knownSyscalls(info, []string{"clone3", "openat2"}),
	}
	groups := []seccomp.SyscallGroup{frequent, denied}
	if len(unsupported.Names) > 0 {
		groups = append(groups, unsupported)
	}
	return seccomp.Policy{DefaultAction: seccomp.ActionAllow, Syscalls: groups}, nil
}

// knownSyscalls returns the names that the architecture info has, in
// their order.
func knownSyscalls(info *arch.Info, names []string) []string {
	var known []string
	for _, name := range names {
		if _, found := info.SyscallNames[name]; found {
			known = append(known, name)
		}
	}
	return known
}

// flagConditions returns one rule per flag that matches the system call
// name when argument holds that flag. It returns none when the
// architecture lacks name.
func flagConditions(info *arch.Info, name string, argument uint32, flags []uint64) []seccomp.NameWithConditions {
	if _, found := info.SyscallNames[name]; !found {
		return nil
	}

	rules := make([]seccomp.NameWithConditions, 0, len(flags))
	for _, flag := range flags {
		rules = append(rules, seccomp.NameWithConditions{
			Name:       name,
			Conditions: []seccomp.Condition{{Argument: argument, Operation: seccomp.BitsSet, Value: flag}},
		})
	}
	return rules
}
