package sandbox

import "syscall"

// procAttr puts the worker in its own process group, ends it when the edge
// dies, and starts it in the cgroup of cgroupFD when that is above zero.
// That start uses clone3 with CLONE_INTO_CGROUP, which needs Linux 5.7 or
// later (clone(2)). Go 1.26 does not fall back to clone, so on an older
// kernel the start fails.
//
// NOTE: Pdeathsig follows the OS thread that started the worker, so a
// worker can outlive an edge thread that exited without the edge exiting.
func procAttr(cgroupFD int) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cgroupFD > 0 {
		attr.UseCgroupFD = true
		attr.CgroupFD = cgroupFD
	}
	return attr
}
