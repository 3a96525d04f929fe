package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"portcullis.dev/portal/store/migrations"
	"portcullis.dev/tenants/bundle"
)

// errReadOnly is the compile error of every publish through a Store from
// OpenReadOnly, which stops the publish before its write.
var errReadOnly = errors.New("the store is open read-only: open it with Open to publish plugin versions")

// OpenReadOnly opens the database that dataSource names, in the forms that
// Open takes, for reading only. It applies no migrations, so it leaves the
// database of an older or a newer portal release as it is, and it fails
// when the database has no portal schema. The database itself rejects
// every write through the returned Store: PostgreSQL starts each
// transaction READ ONLY, and SQLite runs with PRAGMA query_only. A SQLite
// file must exist, because opening it never creates one. The error of a
// PostgreSQL database that does not exist suggests no fix, because a
// database created empty has no portal schema either. IsMissingDatabase
// detects that error, so that the caller can name its own fix.
func OpenReadOnly(ctx context.Context, dataSource string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	var (
		db      *gorm.DB
		dialect migrations.Dialect
		name    string
		err     error
	)
	if IsPostgres(dataSource) {
		dialect, name = migrations.Postgres, RedactURL(dataSource)
		db, err = connectPostgres(ctx, dataSource, credentialsHint, stdlib.OptionBeforeConnect(startReadOnly))
	} else {
		dialect, name = migrations.SQLite, strings.TrimPrefix(dataSource, sqliteScheme)
		db, err = openSQLiteReadOnly(name)
	}
	if err != nil {
		return nil, err
	}

	// The goose table exists in every database that a portal has opened,
	// so its absence means that dataSource names another database.
	if !db.WithContext(ctx).Migrator().HasTable(migrations.VersionTable) {
		closePool(db)
		return nil, fmt.Errorf("database %q has no portal schema: it lacks the table %s that the portal creates at its first start", name, migrations.VersionTable)
	}

	return &Store{
		writer:   db,
		reader:   db,
		dialect:  dialect,
		compiler: func(name, version, source string) error { return errReadOnly },
		logger:   logger,
		bundles:  make(map[string]*bundle.Bundle),
	}, nil
}

// startReadOnly makes every transaction of a PostgreSQL connection READ
// ONLY, including the implicit one of each statement.
func startReadOnly(_ context.Context, config *pgx.ConnConfig) error {
	config.RuntimeParams["default_transaction_read_only"] = "on"
	return nil
}

// openSQLiteReadOnly opens one pool on the SQLite file at path without
// creating it, with writes rejected. It sets no journal mode, since that
// would write the file header.
func openSQLiteReadOnly(path string) (*gorm.DB, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store: data source %q is not a usable file path: name a file such as \"portal.db\" without '?' or '#'", path)
	}
	absolute, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	if _, err := os.Stat(absolute); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open sqlite database %q: the file does not exist", absolute)
	}

	// A "file:" URI lets SQLite take mode=rw, which opens an existing file
	// only. The driver reads the _pragma parameters, and SQLite ignores
	// them.
	uri := url.URL{
		Scheme:   "file",
		Path:     absolute,
		RawQuery: fmt.Sprintf("mode=rw&_pragma=busy_timeout(%d)&_pragma=query_only(1)", busyTimeoutMillis),
	}
	return openSQLitePool(uri.String(), absolute, maxReaders)
}
