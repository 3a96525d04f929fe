package worker

import (
	"fmt"

	"github.com/landlock-lsm/go-landlock/landlock"
	landlocksys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// accessRules is the Landlock configuration of a worker: every access
// right that go-landlock supports, with no rule that grants one back. Once
// it applies, the worker opens no file or folder. As far as the kernel's
// Landlock ABI reaches, it also binds or connects no TCP or UDP port,
// connects to no socket by path, and signals or connects to no process
// outside its own Landlock domain. Its socket to the edge and the
// descriptors that the Go runtime opened before stay usable, because
// Landlock checks access when a file is opened.
//
// BestEffort drops the rights that the running kernel does not support. A
// kernel without Landlock (before Linux 5.13, or with Landlock left out of
// its lsm= list) applies none of them, and LandlockABI returns which level
// applies. The seccomp filter applies in either case.
var accessRules = landlock.V11.BestEffort()

// restrictAccess applies accessRules to every thread of the process and
// to the threads that it starts later.
func restrictAccess() error {
	if err := accessRules.Restrict(); err != nil {
		return fmt.Errorf("take away file and network access with Landlock: %w", err)
	}
	return nil
}

// LandlockABI returns the Landlock ABI version of the running kernel, so
// that the edge can log how far its workers are confined. It fails when
// the kernel has no Landlock, or a seccomp profile stops its system calls.
func LandlockABI() (int, error) {
	version, err := landlocksys.LandlockGetABIVersion()
	if err != nil {
		return 0, fmt.Errorf("read the kernel's Landlock ABI version: %w", err)
	}
	return version, nil
}
