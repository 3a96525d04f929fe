// Package store keeps the portal's data in SQLite through gorm: tenants and
// their upstreams, routes and plugin bindings, the published plugin versions,
// and the change log that drives tenant revisions. It also builds the sealed
// bundles that edges serve.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"portcullis.dev/tenants/bundle"
)

// busyTimeoutMillis is how long a connection waits for a lock that another
// process holds before SQLite returns SQLITE_BUSY.
const busyTimeoutMillis = 5000

// maxReaders caps the reader pool. In WAL mode a reader does not block the
// writer, so reads need no lock of their own.
const maxReaders = 8

// Options configures a Store.
type Options struct {
	// Compiler checks plugin source when a version is published. Required.
	Compiler Compiler
	// Logger receives errors that the store handles itself, such as a
	// panicking ChangeFunc. Nil discards them.
	Logger *slog.Logger
}

// Store is the portal's database. It is safe for concurrent use and
// implements bundle.Source.
//
// Writes go through a pool of one connection whose transactions start with
// BEGIN IMMEDIATE, so writers queue in Go instead of failing with
// SQLITE_BUSY. Reads use a separate pool and see a consistent snapshot per
// transaction because the database runs in WAL mode.
type Store struct {
	writer   *gorm.DB
	reader   *gorm.DB
	compiler Compiler
	logger   *slog.Logger

	listenersMu sync.RWMutex
	listeners   []bundle.ChangeFunc

	bundlesMu sync.RWMutex
	bundles   map[string]*bundle.Bundle
}

var _ bundle.Source = (*Store)(nil)

// Open opens or creates the SQLite database at path and migrates its schema.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Compiler == nil {
		return nil, errors.New("open store: compiler is missing: pass the function that checks plugin source")
	}
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store: data source %q is not a usable file path: name a file such as \"portal.db\" without '?' or '#'", path)
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	writer, err := openPool(path, "immediate", 1)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, writer); err != nil {
		closePool(writer)
		return nil, err
	}

	reader, err := openPool(path, "deferred", maxReaders)
	if err != nil {
		closePool(writer)
		return nil, err
	}

	store := &Store{
		writer:   writer,
		reader:   reader,
		compiler: opts.Compiler,
		logger:   logger,
		bundles:  make(map[string]*bundle.Bundle),
	}
	return store, nil
}

// openPool opens one gorm connection pool on the file with the pragmas that
// every connection needs.
func openPool(path, txlock string, maxConns int) (*gorm.DB, error) {
	dsn := fmt.Sprintf("%s?_txlock=%s&_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)",
		path, txlock, busyTimeoutMillis)

	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
		TranslateError: true,
	})
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

func closePool(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(closePool(s.writer), closePool(s.reader))
}

// Ping runs a trivial query to check that the database responds.
func (s *Store) Ping(ctx context.Context) error {
	var result int
	if err := s.reader.WithContext(ctx).Raw("SELECT 1").Scan(&result).Error; err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// OnChange registers fn to run after each committed change of a tenant's
// config, with the tenant's slug and new revision. Callbacks run
// synchronously in the writer's goroutine after the transaction has ended.
// Callbacks of concurrent writes can run concurrently and out of revision
// order, so a listener should ignore a revision at or below one it has seen.
func (s *Store) OnChange(fn bundle.ChangeFunc) {
	s.listenersMu.Lock()
	defer s.listenersMu.Unlock()

	s.listeners = append(s.listeners, fn)
}

// notify calls every registered ChangeFunc. A panicking callback is logged
// and does not stop the others, because the change is already committed.
func (s *Store) notify(tenant string, revision int64) {
	s.listenersMu.RLock()
	listeners := append([]bundle.ChangeFunc(nil), s.listeners...)
	s.listenersMu.RUnlock()

	for _, fn := range listeners {
		s.callListener(fn, tenant, revision)
	}
}

func (s *Store) callListener(fn bundle.ChangeFunc, tenant string, revision int64) {
	defer func() {
		if recovered := recover(); recovered != nil {
			s.logger.Error("change listener panicked", "tenant", tenant, "revision", revision, "panic", fmt.Sprint(recovered))
		}
	}()

	fn(tenant, revision)
}
