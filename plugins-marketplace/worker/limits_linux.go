package worker

import (
	"fmt"
	"syscall"
)

// limitMemory sets RLIMIT_DATA and RLIMIT_AS for a heap of limit bytes, so
// an allocation past them fails and the Go runtime ends the process with
// "out of memory".
func limitMemory(limit uint64) error {
	if err := setLimit(syscall.RLIMIT_DATA, "RLIMIT_DATA", limit+DataOverhead); err != nil {
		return err
	}
	return setLimit(syscall.RLIMIT_AS, "RLIMIT_AS", limit+AddressSpaceOverhead)
}

func setLimit(resource int, name string, bytes uint64) error {
	limit := &syscall.Rlimit{Cur: bytes, Max: bytes}
	if err := syscall.Setrlimit(resource, limit); err != nil {
		return fmt.Errorf("set %s to %d bytes: %w", name, bytes, err)
	}
	return nil
}
