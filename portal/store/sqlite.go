package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"portcullis.dev/portal/store/migrations"
)

// sqliteScheme prefixes a SQLite data source: "sqlite://PATH".
const sqliteScheme = "sqlite://"

// busyTimeoutMillis is how long a connection waits for a lock that another
// process holds before SQLite returns SQLITE_BUSY.
const busyTimeoutMillis = 5000

// maxReaders caps the reader pool. In WAL mode a reader does not block the
// writer, so reads need no lock of their own.
const maxReaders = 8

// pools are the connection pools of one database. On PostgreSQL writer and
// reader are the same pool.
type pools struct {
	writer  *gorm.DB
	reader  *gorm.DB
	dialect migrations.Dialect
}

// IsPostgres reports whether dataSource is a PostgreSQL URL.
func IsPostgres(dataSource string) bool {
	return strings.HasPrefix(dataSource, "postgres://") || strings.HasPrefix(dataSource, "postgresql://")
}

// openSQLite opens the writer and reader pools on the SQLite file at path and
// migrates its schema.
func openSQLite(ctx context.Context, path string, log *slog.Logger) (pools, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return pools{}, fmt.Errorf("open store: data source %q is not a usable file path: name a file such as \"portal.db\" without '?' or '#'", path)
	}

	writer, err := openPool(path, "immediate", 1)
	if err != nil {
		return pools{}, err
	}

	// Migrations run on a pool of their own, since goose may hold one
	// connection while it queries on another.
	if err := migrateSQLite(ctx, path, log); err != nil {
		closePool(writer)
		return pools{}, err
	}

	reader, err := openPool(path, "deferred", maxReaders)
	if err != nil {
		closePool(writer)
		return pools{}, err
	}
	return pools{writer: writer, reader: reader, dialect: migrations.SQLite}, nil
}

func migrateSQLite(ctx context.Context, path string, log *slog.Logger) error {
	pool, err := openPool(path, "immediate", 2)
	if err != nil {
		return err
	}
	defer closePool(pool)

	sqlDB, err := pool.DB()
	if err != nil {
		return fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	return migrations.Up(ctx, sqlDB, migrations.SQLite, log)
}

// openPool opens one gorm connection pool on the file with the pragmas that
// every connection needs.
func openPool(path, txlock string, maxConns int) (*gorm.DB, error) {
	dsn := fmt.Sprintf("%s?_txlock=%s&_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)",
		path, txlock, busyTimeoutMillis)
	return openSQLitePool(dsn, path, maxConns)
}

// openSQLitePool opens one gorm connection pool on the SQLite data source
// dsn and pings it. Errors name the file as path.
func openSQLitePool(dsn, path string, maxConns int) (*gorm.DB, error) {
	db, err := gorm.Open(sqlite.Open(dsn), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}

	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)

	if err := sqlDB.Ping(); err != nil {
		closePool(db)
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	return db, nil
}

// gormConfig is the gorm configuration of every pool: UTC timestamps, and
// driver errors translated to gorm's, such as gorm.ErrDuplicatedKey.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
		TranslateError: true,
	}
}
