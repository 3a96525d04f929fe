// Package allinone runs the portal and the edge in one process, wired so
// that every change written through the portal reaches the edge in-process.
package allinone

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/edge"
	"portcullis.dev/edge/observe"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/edge/tlsconf"
	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/portal"
	"portcullis.dev/services/internal/datadir"
	"portcullis.dev/tenants/netguard"
)

// Config selects the roles, addresses and data folder of the process. Empty
// edge addresses disable that listener.
type Config struct {
	// Role is "all" (portal and edge) or "portal".
	Role       string
	PortalAddr string
	HTTPAddr   string
	HTTPSAddr  string
	AdminAddr  string
	DataDir    string
	// DB is the portal's database: a postgres:// URL or sqlite://PATH.
	// Empty means the SQLite file in DataDir.
	DB         string
	BaseDomain string
	// Sandbox is edge.Config.Sandbox: the plugin worker processes.
	Sandbox sandbox.Config
	// Observe turns on the edge's tracing and access log.
	Observe observe.Options
	// TrustedProxies is edge.Config.TrustedProxies.
	TrustedProxies []netip.Prefix
	// PluginOutboundAllow lists the networks that plugins' outbound
	// requests may reach although they are not public, such as
	// 10.0.0.0/8 (hostsvc.WithOutboundAllow). Empty allows public
	// addresses only.
	PluginOutboundAllow []netip.Prefix
	// UpstreamGuard is edge.Config.UpstreamGuard; Demo adds the demo
	// upstream's address to a copy of it.
	UpstreamGuard *netguard.Guard
	// AdminToken is the operator token; empty reads or generates
	// DataDir/admin-token.
	AdminToken string
	// SecretKey is the base64 key that encrypts credential secrets; empty
	// reads or generates DataDir/secret-key.
	SecretKey string
	// Demo seeds the demo tenant and serves its upstream at DemoAddr. It
	// publishes the catalogue too.
	Demo     bool
	DemoAddr string
	// Catalog publishes the first-party plugin catalogue at start and marks
	// it reviewed, leaving versions that exist alone.
	Catalog bool
	// RedisURL is the Redis that plugins' ctx.limit.redis counts in, such
	// as "redis://127.0.0.1:6379/11". Empty makes ctx.limit.redis raise.
	RedisURL string
	// DNSResolver is the "host:port" of the DNS server that custom domain
	// verifications ask; empty means the system resolver.
	DNSResolver string
	Logger      *slog.Logger
}

// Server is a running all-in-one process.
type Server struct {
	cfg        Config
	adminToken string
	portal     *portal.Portal
	portalLn   net.Listener
	edge       *edge.Edge
	// pluginKey is the public key of the portal's plugin signing key,
	// which the edge of the same process gets directly.
	pluginKey ed25519.PublicKey
	demo      *http.Server
	demoURL   string
	redis     *redis.Client
	failed    chan error
	// observe contains the edge's tracer provider and access log.
	observe *observe.Setup
	// stopReports ends reportLocalEdge and waits for it.
	stopReports context.CancelFunc
	// checks runs the portal's checks of plugin code in plugin workers,
	// nil without workers.
	checks *pluginChecks
}

// Start opens the data folder, starts every role of cfg and returns once all
// listeners accept connections.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Role != "all" && cfg.Role != "portal" {
		return nil, fmt.Errorf("role %q is not supported here: use all or portal (the edge role runs through package edgenode)", cfg.Role)
	}

	dir, err := datadir.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, failed: make(chan error, 4)}
	if cfg.Demo {
		if err := s.startDemoUpstream(); err != nil {
			return nil, err
		}
	}
	if err := s.startPortal(dir); err != nil {
		s.shutdownQuietly()
		return nil, err
	}
	if cfg.Role == "all" {
		if err := s.startEdge(dir); err != nil {
			s.shutdownQuietly()
			return nil, err
		}
	}
	if cfg.Catalog && !cfg.Demo {
		if err := s.publishCatalog(ctx); err != nil {
			s.shutdownQuietly()
			return nil, err
		}
	}
	if cfg.Demo {
		if err := s.startDemo(ctx); err != nil {
			s.shutdownQuietly()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) startPortal(dir *datadir.Dir) error {
	token, generated, err := dir.AdminToken(s.cfg.AdminToken)
	if err != nil {
		return err
	}
	s.adminToken = token
	if generated {
		s.cfg.Logger.Info("generated operator token", "path", dir.File(datadir.AdminTokenFile))
	}

	secretKey, generated, err := dir.SecretKey(s.cfg.SecretKey)
	if err != nil {
		return err
	}
	if generated {
		s.cfg.Logger.Info("generated secret key", "path", dir.File(datadir.SecretKeyFile))
	}

	signingKey, generated, err := dir.PluginSigningKey()
	if err != nil {
		return err
	}
	if generated {
		s.cfg.Logger.Info("generated plugin signing key", "path", dir.File(datadir.PluginSigningKeyFile))
	}
	s.pluginKey = signingKey.Public().(ed25519.PublicKey)

	dataSource := s.cfg.DB
	if dataSource == "" {
		dataSource = dir.DatabaseFile()
	}
	portalCfg := portal.Config{
		DataSource:       dataSource,
		AdminToken:       token,
		SecretKey:        secretKey,
		PluginSigningKey: signingKey,
		DNSResolver:      s.cfg.DNSResolver,
		Compiler:         compilePlugin,
		Tester:           testPlugin,
		BindingTester:    testBinding,
		Logger:           s.cfg.Logger.With("role", "portal"),
	}
	if err := s.checkPluginsInWorkers(&portalCfg); err != nil {
		return err
	}
	s.portal, err = portal.New(portalCfg)
	if err != nil {
		return fmt.Errorf("start portal: %w", err)
	}

	s.portalLn, err = net.Listen("tcp", s.cfg.PortalAddr)
	if err != nil {
		return fmt.Errorf("listen for the portal on %q: %w (pick another with --portal-addr)", s.cfg.PortalAddr, err)
	}
	go func() {
		if err := s.portal.Serve(s.portalLn); err != nil {
			s.failed <- fmt.Errorf("portal: %w", err)
		}
	}()
	s.cfg.Logger.Info("portal listening", "url", s.PortalURL())
	return nil
}

// checkPluginsInWorkers makes the portal of cfg compile, test and try
// plugin code in plugin worker processes when the server runs plugin
// workers (Config.Sandbox.Command). Without workers the portal runs that
// code itself, as the edge then does.
func (s *Server) checkPluginsInWorkers(cfg *portal.Config) error {
	if len(s.cfg.Sandbox.Command) == 0 {
		return nil
	}

	workers := s.cfg.Sandbox
	workers.Logger = cfg.Logger
	checks, err := newPluginChecks(workers)
	if err != nil {
		return fmt.Errorf("start the plugin workers of the portal's checks: %w", err)
	}
	s.checks = checks
	cfg.Compiler, cfg.Tester, cfg.Tracer = checks.compile, checks.test, checks.trace
	cfg.BindingTester = checks.testBinding
	return nil
}

// compilePlugin checks plugin source for the portal in this process,
// passing the line and column of a compile error on so the API can name
// them.
func compilePlugin(name, version, source string) error {
	_, err := pluginhost.Compile(name, version, source)
	return portalCompileError(err)
}

// testPlugin runs a version's test vectors for the portal at publish time
// in this process, offline and without Redis, so vectors that require
// Redis are skipped.
func testPlugin(ctx context.Context, name, version, source string, vectors json.RawMessage) error {
	err := pluginpkg.TestSource(ctx, name, version, source, vectors, pluginpkg.RunOptions{})
	return portalVectorError(err)
}

// testBinding runs a version's test vectors with a binding's config in
// this process, as the edge's pre-flight does, and without Redis.
func testBinding(ctx context.Context, name, version, source string, vectors, config json.RawMessage) error {
	err := pluginpkg.TestSource(ctx, name, version, source, vectors, pluginpkg.RunOptions{BindingConfig: config})
	return portalVectorError(err)
}

func (s *Server) startEdge(dir *datadir.Dir) error {
	cert, err := dir.DevCertificate(s.cfg.BaseDomain)
	if err != nil {
		return err
	}

	services, err := s.pluginServices()
	if err != nil {
		return err
	}
	domains := &domainIndexer{store: s.portal.Store(), index: &tlsconf.Index{}, server: s}
	domains.refresh()
	if s.observe, err = observe.Open(s.cfg.Observe); err != nil {
		return err
	}
	s.edge, err = edge.New(edge.Config{
		PluginPublicKey: s.pluginKey,
		PluginServices:  services,
		Source:          s.portal.Store(),
		BaseDomain:      s.cfg.BaseDomain,
		TrustedProxies:  s.cfg.TrustedProxies,
		UpstreamGuard:   s.cfg.UpstreamGuard,
		HTTPAddr:        s.cfg.HTTPAddr,
		HTTPSAddr:       s.cfg.HTTPSAddr,
		AdminAddr:       s.cfg.AdminAddr,
		TLSConfig:       &tls.Config{Certificates: []tls.Certificate{cert}},
		Domains:         domains.index,
		Sandbox:         s.cfg.Sandbox,
		TracerProvider:  s.observe.TracerProvider(),
		AccessLog:       s.observe.AccessLog(),
		Logger:          s.cfg.Logger.With("role", "edge"),
	})
	if err != nil {
		return fmt.Errorf("configure edge: %w", err)
	}
	s.portal.OnChange(domains.onChange)
	s.portal.OnChange(s.edge.Invalidate)

	if err := s.edge.Start(); err != nil {
		return fmt.Errorf("start edge: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.reportLocalEdge(ctx)
	}()
	s.stopReports = func() {
		cancel()
		<-done
	}
	return nil
}

// pluginServices returns the plugins' host services, with a Redis client
// when the config names one.
func (s *Server) pluginServices() (*hostsvc.Services, error) {
	logger := s.cfg.Logger.With("role", "edge")
	allow := hostsvc.WithOutboundAllow(s.cfg.PluginOutboundAllow)
	if s.cfg.RedisURL == "" {
		return hostsvc.New(logger, nil, allow), nil
	}

	client, err := hostsvc.NewRedisClient(s.cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	s.redis = client
	return hostsvc.New(logger, client, allow), nil
}

// PortalURL returns the base URL of the portal.
func (s *Server) PortalURL() string {
	return "http://" + s.portalLn.Addr().String()
}

// AdminToken returns the operator token the portal accepts.
func (s *Server) AdminToken() string {
	return s.adminToken
}

// Edge returns the edge, or nil when the role has none.
func (s *Server) Edge() *edge.Edge {
	return s.edge
}

// Wait blocks until ctx ends or a listener fails.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.failed:
		return err
	}
}

// Shutdown stops the edge first, so that it drains in-flight requests while
// the portal still serves, then the portal and the demo upstream.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.stopReports != nil {
		s.stopReports()
	}
	if s.edge != nil {
		errs = append(errs, s.edge.Shutdown(ctx))
	}
	errs = append(errs, s.observe.Close(ctx))
	if s.demo != nil {
		errs = append(errs, s.demo.Shutdown(ctx))
	}
	if s.portal != nil {
		errs = append(errs, s.portal.Shutdown(ctx))
	}
	if s.checks != nil {
		s.checks.close()
	}
	if s.redis != nil {
		errs = append(errs, s.redis.Close())
	}
	return errors.Join(errs...)
}

func (s *Server) shutdownQuietly() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}
