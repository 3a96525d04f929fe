// Package pgtest gives each test a fresh database on the machine's
// PostgreSQL and drops it when the test ends, so runs never collide.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvServer names the environment variable with the URL of a database on
// the server that tests use to create and drop their own databases.
const EnvServer = "PORTCULLIS_TEST_POSTGRES"

// DefaultServer is the server URL when EnvServer is unset: the local
// PostgreSQL with trust authentication, as on the CI machine.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// serverURL returns the server URL that tests use: EnvServer, or
// DefaultServer when it is unset.
func serverURL() string {
	if server := os.Getenv(EnvServer); server != "" {
		return server
	}
	return DefaultServer
}

// MissingDatabaseURL returns the URL of a database that does not exist on
// the test server, for tests of the errors of opening one.
func MissingDatabaseURL(t testing.TB) string {
	t.Helper()
	parsed, err := url.Parse(serverURL())
	if err != nil {
		t.Fatalf("parse %s: %v", EnvServer, err)
	}
	parsed.Path = "/portcullis_never_created"
	return parsed.String()
}

// NewDatabase creates an empty database and returns its URL. The test fails
// when PostgreSQL does not answer, and the database is dropped at cleanup.
func NewDatabase(t testing.TB) string {
	t.Helper()

	server := serverURL()
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("open postgres %s: %v", redact(server), err)
	}
	t.Cleanup(func() { admin.Close() })

	name := "portcullis_test_" + randomSuffix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s on %s (set %s to a server where this user may create databases): %v", name, redact(server), EnvServer, err)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	parsed, err := url.Parse(server)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvServer, err)
	}
	parsed.Path = "/" + name
	return parsed.String()
}

func randomSuffix(t testing.TB) string {
	var random [6]byte
	if _, err := rand.Read(random[:]); err != nil {
		t.Fatalf("read random database name: %v", err)
	}
	return hex.EncodeToString(random[:])
}

func redact(raw string) string {
	parsed, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return parsed.Redacted()
}
