// Command vminit is the first process of the throwaway virtual machine that
// infra/vmtest/cgroup-v2.sh boots to run the cgroup v2 tests of the plugin
// sandbox on a kernel whose memory controller is in cgroup v2. It mounts
// the file systems the tests read and enables the controllers for child
// cgroups. Then it runs the test binary with the arguments on its kernel
// command line, prints the exit status on a line of its own, and powers
// the machine off.
//
// The kernel runs it as /init from the initramfs, with the arguments
// after "--" on the kernel command line.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// statusPrefix starts the line that reports the test binary's exit status.
// The script reads the status from it.
const statusPrefix = "vminit: test exit status "

func main() {
	status := run(os.Args[1:])
	fmt.Printf("\n%s%d\n", statusPrefix, status)
	syscall.Sync()
	_ = syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
}

// run prepares the machine and runs args, and returns the exit status.
func run(args []string) int {
	if err := mountAll(); err != nil {
		fmt.Println("vminit:", err)
		return 125
	}
	if len(args) == 0 {
		fmt.Println("vminit: no test command on the kernel command line after --")
		return 125
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = []string{"PATH=/", "HOME=/tmp", "TMPDIR=/tmp"}
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return exitErr.ExitCode()
	}
	if err != nil {
		fmt.Println("vminit: run the tests:", err)
		return 126
	}
	return 0
}

// mountAll mounts proc, sysfs, devtmpfs, a tmpfs on /tmp and the cgroup2
// hierarchy, and enables the memory and pids controllers for the root
// cgroup's children.
func mountAll() error {
	mounts := []struct{ source, target, kind string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", m.target, err)
		}
		if err := syscall.Mount(m.source, m.target, m.kind, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.kind, m.target, err)
		}
	}

	control := "/sys/fs/cgroup/cgroup.subtree_control"
	if err := os.WriteFile(control, []byte("+memory +pids"), 0o644); err != nil {
		return fmt.Errorf("enable the memory and pids controllers in %s: %w", control, err)
	}
	return nil
}
