package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"portcullis.dev/portal/store/pgtest"
)

// TestOpenMissingDatabaseHintsCreate opens a database that does not exist
// on the test server. The error must contain the hint to create it.
func TestOpenMissingDatabaseHintsCreate(t *testing.T) {
	_, err := Open(context.Background(), pgtest.MissingDatabaseURL(t), Options{Compiler: fakeCompile})
	if err == nil {
		t.Fatal("Open() of a missing database succeeded")
	}
	if !strings.Contains(err.Error(), "create the database first") {
		t.Errorf("Open() error = %v, want the hint to create the database", err)
	}
	if !IsMissingDatabase(err) {
		t.Errorf("IsMissingDatabase(%v) = false, want true", err)
	}
}

// TestOpenReadOnlyMissingDatabase checks that OpenReadOnly does not advise
// to create a database that does not exist: a created database would be
// empty, without the portal's schema and plugin versions.
func TestOpenReadOnlyMissingDatabase(t *testing.T) {
	_, err := OpenReadOnly(context.Background(), pgtest.MissingDatabaseURL(t), nil)
	if err == nil {
		t.Fatal("OpenReadOnly() of a missing database succeeded")
	}
	if !strings.Contains(err.Error(), "portcullis_never_created") {
		t.Errorf("OpenReadOnly() error = %v, want it to name the database", err)
	}
	if strings.Contains(err.Error(), "create the database") || strings.Contains(err.Error(), "createdb") {
		t.Errorf("OpenReadOnly() error = %v, want no advice to create the database", err)
	}
	if !IsMissingDatabase(err) {
		t.Errorf("IsMissingDatabase(%v) = false, want true", err)
	}
}

func TestIsMissingDatabaseOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("database \"x\" does not exist"), ErrConflict} {
		if IsMissingDatabase(err) {
			t.Errorf("IsMissingDatabase(%v) = true, want false", err)
		}
	}
}
