package main

import (
	"os"
	"testing"
)

// TestMain makes the test binary a plugin worker when an edge under test
// starts it as "<binary> worker", as setWorkerCommand sets it up, and the
// child process of "plugin test" when runPlugin starts it as "<binary>
// plugin test-child DIR".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(runWorker(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "plugin" {
		os.Exit(runPlugin(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
