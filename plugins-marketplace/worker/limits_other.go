//go:build !linux

package worker

// limitMemory does nothing outside Linux.
//
// NOTE: only Linux bounds a worker's memory hard; elsewhere the soft limit
// of debug.SetMemoryLimit is the only bound.
func limitMemory(limit uint64) error {
	return nil
}
