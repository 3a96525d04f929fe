package store

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"portcullis.dev/portal/store/pgtest"
)

// TestOpenMissingDatabaseHintsCreate opens a database that does not exist
// on the test server. The error must contain the hint to create it.
func TestOpenMissingDatabaseHintsCreate(t *testing.T) {
	server := os.Getenv(pgtest.EnvServer)
	if server == "" {
		server = pgtest.DefaultServer
	}
	parsed, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Path = "/portcullis_never_created"

	_, err = Open(context.Background(), parsed.String(), Options{Compiler: fakeCompile})
	if err == nil {
		t.Fatal("Open() of a missing database succeeded")
	}
	if !strings.Contains(err.Error(), "create the database first") {
		t.Errorf("Open() error = %v, want the hint to create the database", err)
	}
}
