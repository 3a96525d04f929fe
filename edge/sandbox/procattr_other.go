//go:build !linux

package sandbox

import "syscall"

// procAttr puts the worker in its own process group.
func procAttr(cgroupFD int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
