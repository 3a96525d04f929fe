package allinone

import (
	"os"
	"testing"

	"portcullis.dev/plugins-marketplace/worker"
)

// TestMain lets the test binary serve as the plugin worker of the tests
// that run plugin workers: "TEST-BINARY worker ..." runs worker.Main.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(worker.Main(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}
