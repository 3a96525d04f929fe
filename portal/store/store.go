// Package store keeps the portal's data in SQLite or PostgreSQL through
// gorm: tenants and their upstreams, routes and plugin bindings, the
// published plugin versions, the change log that drives tenant revisions and
// the change feed, and the edge nodes that follow that feed. It also builds
// the sealed bundles that edges serve.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"gorm.io/gorm"

	"portcullis.dev/portal/secrets"
	"portcullis.dev/portal/store/migrations"
	"portcullis.dev/tenants/bundle"
)

// Options configures a Store.
type Options struct {
	// Compiler checks plugin source when a version is published. Required.
	Compiler Compiler
	// Tester runs a version's test vectors when it is published. Nil
	// stores the vectors without running them.
	Tester Tester
	// BindingTester runs a version's test vectors with a binding's config
	// when a binding whose version has vectors marked binding_config is
	// created or changed. Nil leaves them to the edge's pre-flight.
	BindingTester BindingTester
	// Logger receives errors that the store handles itself, such as a
	// panicking ChangeFunc. Nil discards them.
	Logger *slog.Logger
	// Secrets encrypts credential secrets at rest. Nil rejects every
	// credential that has a secret to store.
	Secrets *secrets.Box
	// Signer signs each plugin version when it is published. Nil stores
	// versions unsigned, which edges with a plugin public key reject.
	Signer PluginSigner
}

// Store is the portal's database. It is safe for concurrent use and
// implements bundle.Source.
//
// On SQLite, writes go through a pool of one connection whose transactions
// start with BEGIN IMMEDIATE, so writers queue in Go instead of failing with
// SQLITE_BUSY. Reads use a separate pool and see a consistent snapshot per
// transaction because the database runs in WAL mode.
//
// On PostgreSQL, one pool serves both. A write locks the tenant's row
// (SELECT ... FOR UPDATE) before it reads the revision, and reads run in
// REPEATABLE READ transactions, so each sees one snapshot.
type Store struct {
	writer   *gorm.DB
	reader   *gorm.DB
	dialect  migrations.Dialect
	compiler Compiler
	tester   Tester
	// bindingTester is Options.BindingTester.
	bindingTester BindingTester
	logger        *slog.Logger
	secrets       *secrets.Box
	signer        PluginSigner

	listenersMu sync.RWMutex
	listeners   []bundle.ChangeFunc

	bundlesMu sync.RWMutex
	bundles   map[string]*bundle.Bundle
}

var _ bundle.Source = (*Store)(nil)

// Open opens the database that dataSource names, applies the schema
// migrations it lacks, and returns a Store on it. dataSource is a
// PostgreSQL URL ("postgres://..." or "postgresql://..."), "sqlite://PATH",
// or a plain SQLite file path.
func Open(ctx context.Context, dataSource string, opts Options) (*Store, error) {
	if opts.Compiler == nil {
		return nil, errors.New("open store: compiler is missing: pass the function that checks plugin source")
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	var (
		pools pools
		err   error
	)
	if IsPostgres(dataSource) {
		pools, err = openPostgres(ctx, dataSource, logger)
	} else {
		pools, err = openSQLite(ctx, strings.TrimPrefix(dataSource, sqliteScheme), logger)
	}
	if err != nil {
		return nil, err
	}

	store := &Store{
		writer:        pools.writer,
		reader:        pools.reader,
		dialect:       pools.dialect,
		compiler:      opts.Compiler,
		tester:        opts.Tester,
		bindingTester: opts.BindingTester,
		logger:        logger,
		secrets:       opts.Secrets,
		signer:        opts.Signer,
		bundles:       make(map[string]*bundle.Bundle),
	}
	return store, nil
}

func closePool(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Close closes the connection pools.
func (s *Store) Close() error {
	if s.reader == s.writer {
		return closePool(s.writer)
	}
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
