package edge

import (
	"os"
	"testing"

	"portcullis.dev/plugins-marketplace/worker"
)

// TestMain makes the test binary a plugin worker when an edge under test
// starts it with the argument "worker", as "portcullis worker" is in
// production.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(worker.Main(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}
