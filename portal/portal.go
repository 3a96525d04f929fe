// Package portal is the Portcullis control plane: operators manage tenants,
// upstreams, routes, plugins and plugin bindings through a REST API, and
// edges read each tenant's config as a sealed bundle from the store.
package portal

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/portal/api"
	"portcullis.dev/portal/secrets"
	"portcullis.dev/portal/store"
	portalsync "portcullis.dev/portal/sync"
	"portcullis.dev/portal/ui"
	"portcullis.dev/tenants/bundle"
)

// Compiler checks plugin source at publish time, as store.Compiler
// describes.
type Compiler = store.Compiler

// CompileError reports the position of a compile error in plugin source.
type CompileError = store.CompileError

// Tester runs test vectors at publish time, as store.Tester.
type Tester = store.Tester

// BindingTester runs test vectors with a binding's config, as
// store.BindingTester.
type BindingTester = store.BindingTester

// VectorError reports a failing test vector, as store.VectorError.
type VectorError = store.VectorError

// UnavailableError reports a check that did not run for want of capacity,
// as store.UnavailableError.
type UnavailableError = store.UnavailableError

// Config configures a Portal.
type Config struct {
	// DataSource is a PostgreSQL URL ("postgres://..."), "sqlite://PATH" or
	// the path of a SQLite database file. A SQLite file and its WAL files
	// are created when missing. Either way, missing schema migrations are
	// applied at start.
	DataSource string
	// AdminToken is the operator's bearer token for /api/v1, at least
	// api.MinTokenLength bytes.
	AdminToken string
	// Compiler checks plugin source when a version is published. Required.
	Compiler Compiler
	// Tester runs a plugin version's test vectors at publish time. Nil
	// stores them without running them.
	Tester Tester
	// BindingTester runs a version's test vectors with a binding's config
	// when a binding is written, so a config that fails the vectors marked
	// binding_config is rejected there and not only at the edge's
	// pre-flight. Nil leaves them to the pre-flight.
	BindingTester BindingTester
	// Tracer runs a route's chain when a user tries the route. Nil runs it
	// in the portal process (api.TraceInProcess).
	Tracer api.Tracer
	// Logger receives request and error logs. Nil discards them.
	Logger *slog.Logger
	// SecretKey is the AES-256 key, 32 bytes, that encrypts consumer
	// credential secrets at rest. Empty rejects credentials with a secret.
	SecretKey []byte
	// DNSResolver is the "host:port" of the DNS server that custom domain
	// verifications ask for TXT records. Empty means the system resolver.
	DNSResolver string
	// PluginSigningKey is the ed25519 key that signs each published plugin
	// version. Nil publishes unsigned versions, which edges configured
	// with a plugin public key reject.
	PluginSigningKey ed25519.PrivateKey
}

// Portal is a running portal: its store and its HTTP server.
type Portal struct {
	store  *store.Store
	app    *fiber.App
	logger *slog.Logger
	feed   *portalsync.Broadcaster
	// stopFeed ends the goroutines that wake feed readers.
	stopFeed context.CancelFunc

	// listener is the one Serve serves, and stopped is set by Shutdown.
	// Shutdown closes the listener itself, because Fiber's shutdown misses
	// a listener that Serve has not handed to the server yet.
	listenerMu sync.Mutex
	listener   net.Listener
	stopped    bool
}

// New opens the store and builds the HTTP server without serving it.
func New(cfg Config) (*Portal, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	box, err := secretBox(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("create portal: %w", err)
	}
	signer, publicKey, err := pluginSigner(cfg.PluginSigningKey)
	if err != nil {
		return nil, fmt.Errorf("create portal: %w", err)
	}
	st, err := store.Open(context.Background(), cfg.DataSource, store.Options{Compiler: cfg.Compiler, Tester: cfg.Tester, BindingTester: cfg.BindingTester, Logger: logger, Secrets: box, Signer: signer})
	if err != nil {
		return nil, fmt.Errorf("create portal: %w", err)
	}

	feed := portalsync.NewBroadcaster()
	limits := api.NewLoginLimits()
	app, err := api.NewApp(api.Options{Store: st, AdminToken: cfg.AdminToken, Logger: logger, Feed: feed, Limits: limits, DNSResolver: cfg.DNSResolver, PluginKey: publicKey, Tracer: cfg.Tracer})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create portal: %w", err), st.Close())
	}
	lookupTXT, err := api.NewTXTLookup(cfg.DNSResolver)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create portal: %w", err), st.Close())
	}
	ui.Register(app, ui.Options{Store: st, AdminToken: cfg.AdminToken, Limits: limits, Logger: logger, LookupTXT: lookupTXT})

	p := &Portal{store: st, app: app, logger: logger, feed: feed}
	p.watchFeed(cfg.DataSource)
	return p, nil
}

// pluginSigner returns the signer and public key for the key, or nils for
// no key. A nil *signing.Signer must not reach store.Options as a non-nil
// interface, so the signer is returned as store.PluginSigner.
func pluginSigner(key ed25519.PrivateKey) (store.PluginSigner, ed25519.PublicKey, error) {
	if key == nil {
		return nil, nil, nil
	}
	signer, err := signing.NewSigner(key)
	if err != nil {
		return nil, nil, err
	}
	return signer, signer.PublicKey(), nil
}

// secretBox returns the box for the key, or nil for no key.
func secretBox(key []byte) (*secrets.Box, error) {
	if len(key) == 0 {
		return nil, nil
	}
	return secrets.NewBox(key)
}

// watchFeed wakes the feed readers after each change: at once for writes
// through this portal, by LISTEN/NOTIFY for writes through other replicas
// on PostgreSQL, and by a poll of the feed head as a fallback.
func (p *Portal) watchFeed(dataSource string) {
	ctx, cancel := context.WithCancel(context.Background())
	p.stopFeed = cancel

	p.store.OnChange(func(string, int64) { p.feed.Notify() })
	go portalsync.Poll(ctx, p.feed, p.store.FeedHead, p.logger)
	if store.IsPostgres(dataSource) {
		go portalsync.Listen(ctx, p.feed, dataSource, store.FeedChannel, p.logger)
	}
}

// Serve serves HTTP on ln until Shutdown. It returns nil after Shutdown.
func (p *Portal) Serve(ln net.Listener) error {
	p.listenerMu.Lock()
	stopped := p.stopped
	p.listener = ln
	p.listenerMu.Unlock()
	if stopped {
		return ln.Close()
	}

	p.logger.Info("portal serving", "address", ln.Addr().String())

	if err := p.app.Listener(ln); err != nil {
		p.logger.Error("portal stopped serving", "address", ln.Addr().String(), "error", err)
		return fmt.Errorf("serve portal on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Shutdown stops accepting connections, waits for requests in flight until
// ctx ends, and closes the store.
func (p *Portal) Shutdown(ctx context.Context) error {
	// Closing the feed ends change streams and long polls, which would
	// otherwise hold the shutdown up.
	p.stopFeed()
	p.feed.Close()

	serverErr := p.app.ShutdownWithContext(ctx)
	if serverErr != nil {
		serverErr = fmt.Errorf("shut down portal server: %w", serverErr)
	}
	p.closeListener()

	storeErr := p.store.Close()
	if storeErr != nil {
		storeErr = fmt.Errorf("close portal store: %w", storeErr)
	}

	p.logger.Info("portal stopped")
	return errors.Join(serverErr, storeErr)
}

// closeListener closes the listener of Serve, which ends Serve if Fiber's
// shutdown missed it, and makes a later Serve return at once.
func (p *Portal) closeListener() {
	p.listenerMu.Lock()
	defer p.listenerMu.Unlock()

	p.stopped = true
	if p.listener != nil {
		_ = p.listener.Close()
	}
}

// Store returns the portal's store, which implements bundle.Source.
func (p *Portal) Store() *store.Store {
	return p.store
}

// OnChange registers fn to run after each committed change of a tenant's
// config. Several callbacks may be registered, and store.Store.OnChange
// describes when and how they run.
func (p *Portal) OnChange(fn bundle.ChangeFunc) {
	p.store.OnChange(fn)
}
