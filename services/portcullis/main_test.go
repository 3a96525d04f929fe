package main

import (
	"os"
	"testing"
)

// TestMain makes the test binary a plugin worker when an edge under test
// starts it as "<binary> worker", as setWorkerCommand sets it up.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(runWorker(os.Args[2:]))
	}
	os.Exit(m.Run())
}
