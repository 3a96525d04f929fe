// Package migrations holds the portal's versioned schema migrations, one SQL
// folder per database, and runs them with goose at start-up.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Dialect names a supported database.
type Dialect string

// Supported dialects. Each has its own folder of migrations with the same
// version numbers.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// VersionTable is the table in which goose records the applied versions.
const VersionTable = "schema_migrations"

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Up applies every migration of the dialect that the database lacks, in
// version order, each in its own transaction. On PostgreSQL a session
// advisory lock makes portal replicas that start together take turns.
func Up(ctx context.Context, db *sql.DB, dialect Dialect, logger *slog.Logger) error {
	provider, err := newProvider(db, dialect)
	if err != nil {
		return err
	}

	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply %s migrations: %w", dialect, err)
	}

	for _, result := range results {
		logger.Info("applied schema migration", "version", result.Source.Version, "file", result.Source.Path, "duration_ms", result.Duration.Milliseconds())
	}
	return nil
}

// UpTo applies the migrations of the dialect that the database lacks, up
// to and including version, as the portal of the release whose newest
// migration is version does at start-up. Tests use it to create the
// database of an older release.
func UpTo(ctx context.Context, db *sql.DB, dialect Dialect, version int64) error {
	provider, err := newProvider(db, dialect)
	if err != nil {
		return err
	}
	if _, err := provider.UpTo(ctx, version); err != nil {
		return fmt.Errorf("apply %s migrations up to version %d: %w", dialect, version, err)
	}
	return nil
}

// Latest returns the version of the dialect's newest migration, which is
// the schema version of a database that this release's portal migrated.
func Latest(dialect Dialect) (int64, error) {
	entries, err := fs.ReadDir(files, string(dialect))
	if err != nil {
		return 0, fmt.Errorf("read %s migrations: %w", dialect, err)
	}
	var latest int64
	for _, entry := range entries {
		version, err := goose.NumericComponent(entry.Name())
		if err != nil {
			return 0, fmt.Errorf("read %s migrations: file %q: %w", dialect, entry.Name(), err)
		}
		latest = max(latest, version)
	}
	return latest, nil
}

func newProvider(db *sql.DB, dialect Dialect) (*goose.Provider, error) {
	sub, err := fs.Sub(files, string(dialect))
	if err != nil {
		return nil, fmt.Errorf("read %s migrations: %w", dialect, err)
	}

	options := []goose.ProviderOption{goose.WithTableName(VersionTable), goose.WithDisableGlobalRegistry(true)}
	gooseDialect := goose.DialectSQLite3

	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("create migration lock: %w", err)
		}
		options = append(options, goose.WithSessionLocker(locker))
	}

	provider, err := goose.NewProvider(gooseDialect, db, sub, options...)
	if err != nil {
		return nil, fmt.Errorf("prepare %s migrations: %w", dialect, err)
	}
	return provider, nil
}
