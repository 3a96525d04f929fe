// Package edge is Portcullis's multi-tenant API gateway. It serves each
// tenant at "<slug>.<base domain>" over HTTP/1.1, HTTP/2 (TLS and h2c) and
// HTTP/3 through one handler: it matches the tenant's routes, runs the
// tenant's plugins and proxies to the route's upstream.
package edge

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"portcullis.dev/edge/cache"
	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/metrics"
	"portcullis.dev/edge/preflight"
	"portcullis.dev/edge/proxy"
	"portcullis.dev/edge/runtime"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/edge/tlsconf"
	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/netguard"
)

// Defaults for Config fields left zero.
const (
	DefaultBaseDomain      = "localhost"
	DefaultCacheBytes      = cache.DefaultMaxCost
	DefaultUpstreamTimeout = proxy.DefaultResponseHeaderTimeout

	// DefaultReadHeaderTimeout bounds the time a client takes to send a
	// request header, so slow clients cannot hold connections open.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout bounds the wait for the next request on an idle
	// keep-alive connection.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultMaxHeaderBytes bounds the size of a request header: its
	// request line and field lines.
	DefaultMaxHeaderBytes = 64 << 10
)

// Config configures an Edge.
type Config struct {
	// Source returns tenant bundles. It is required.
	Source bundle.Source
	// OnBuilt, when set, receives each bundle that the edge compiled and,
	// for a tenant already serving, that passed its pre-flight: the
	// bundles that may serve traffic. The edge node keeps them on disk as
	// last-known-good copies.
	OnBuilt func(*bundle.Bundle)
	// Fallback, when set, returns the tenant's last-known-good bundle, or
	// nil. A first load of a newer revision then runs its pre-flight and,
	// when that fails, serves the fallback instead (see build).
	Fallback func(tenant string) *bundle.Bundle
	// BaseDomain is the domain that tenants are served under: tenant
	// "acme" is served at Host "acme.<BaseDomain>", on any port. Empty
	// means DefaultBaseDomain.
	BaseDomain string
	// HTTPAddr is the TCP address for plain HTTP/1.1 and h2c, such as
	// ":8080". Empty disables it.
	HTTPAddr string
	// HTTPSAddr is the address for TLS on TCP (HTTP/1.1 and HTTP/2 by ALPN)
	// and HTTP/3 on UDP at the same port, such as ":8443". With port 0
	// both get one free port. Empty disables both.
	HTTPSAddr string
	// AdminAddr is the TCP address for /healthz, /readyz and /metrics,
	// such as "127.0.0.1:9180". Empty disables it.
	AdminAddr string
	// TLSConfig holds the default certificates for HTTPS and HTTP/3. It is
	// required when HTTPSAddr is set. The edge serves a copy limited to TLS
	// 1.2 and 1.3 (see package tlsconf) that picks a tenant's certificate
	// by SNI for its verified custom domains.
	TLSConfig *tls.Config
	// Domains maps verified custom hostnames to tenant slugs; the caller
	// keeps it current. Nil serves tenants at "<slug>.<BaseDomain>" only.
	Domains *tlsconf.Index
	// CacheBytes is the L1 budget for compiled tenant runtimes, charged
	// with an estimate of each runtime's size in bytes (its bundle's JSON
	// size). A runtime larger than the whole budget is never cached, so
	// each request for its tenant loads it again. Zero means
	// DefaultCacheBytes (64 MiB).
	CacheBytes int64
	// UpstreamTimeout bounds the wait for an upstream's response header;
	// past it the client gets a 504. Zero means DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration
	// UpstreamGuard checks each address that the edge connects to for a
	// tenant's upstream. A request to an address that it blocks gets a
	// 502. Nil lets upstreams reach every address.
	UpstreamGuard *netguard.Guard
	// TrustedProxies are the client addresses whose Forwarded and
	// X-Forwarded-* headers the edge keeps and extends, such as a load
	// balancer in front of it. From any other client the edge replaces
	// them. Empty trusts no client.
	TrustedProxies []netip.Prefix
	// ReadHeaderTimeout bounds the time from the start of a connection or
	// request to the end of its header on HTTP/1.1 and HTTP/2. Past it the
	// connection is closed. Zero means DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection, on every protocol. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request header in bytes. On HTTP/1.1 a larger
	// header gets 431 and the connection is closed. net/http allows 4096
	// bytes above it for its read buffer. Zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// WebSocketIdleTimeout closes a proxied WebSocket after this long
	// without a frame in either direction, on every protocol. Zero means
	// proxy.DefaultWebSocketIdleTimeout (5 minutes).
	WebSocketIdleTimeout time.Duration
	// DrainDelay is how long Shutdown keeps every listener open with
	// /readyz at 503 before the drain, so load balancers that poll /readyz
	// stop opening connections first. A listener that closes drops the
	// connections still waiting in its accept queue. Zero means no delay.
	// The delay ends early when Shutdown's context ends.
	DrainDelay time.Duration
	// Sandbox starts the plugin worker processes that run the hooks of
	// unreviewed plugin versions (the sandboxed tier). Its Command, such as
	// ["/usr/bin/portcullis", "worker"], is empty by default, and then every
	// hook runs in-process. See docs/sandbox.md.
	Sandbox sandbox.Config
	// Logger receives the edge's logs. Nil is silent.
	Logger *slog.Logger
	// PluginPublicKey is the portal's ed25519 key that signs plugin
	// versions. Set, a bundle whose plugin code is unsigned or whose
	// signature does not verify fails to build, and the edge keeps serving
	// the tenant's last good revision. Nil runs plugin code unchecked.
	PluginPublicKey ed25519.PublicKey
	// PluginServices serves the plugins' host API. Nil means in-memory
	// services without Redis.
	PluginServices *hostsvc.Services
	// TracerProvider receives a span for each request, plugin hook call
	// and upstream call, and the edge sends W3C trace context upstream.
	// Nil turns tracing off: the edge then passes the client's traceparent
	// and tracestate upstream unchanged. The caller shuts it down after
	// the edge.
	TracerProvider trace.TracerProvider
	// AccessLog receives one JSON line per request (see
	// observe.AccessEntry). Nil turns the access log off. The caller
	// closes it after the edge.
	AccessLog io.Writer
}

// Addrs are the bound listener addresses as "host:port". A disabled
// listener has an empty address.
type Addrs struct {
	HTTP  string
	HTTPS string
	HTTP3 string
	Admin string
}

// Edge is a running gateway. Create it with New, then call Start and, at
// the end, Shutdown.
type Edge struct {
	cfg        Config
	baseDomain string
	log        *slog.Logger
	metrics    *metrics.Metrics
	compiler   *chain.Compiler
	supervisor *chain.Supervisor
	sandbox    *sandbox.Pool
	preflight  *preflight.Checker
	services   *hostsvc.Services
	logHooks   *logSlots
	observer   *observer
	store      *cache.Store
	// transport holds the upstream connection pools, target health and
	// retry budget, which outlive every runtime.
	transport *proxy.Upstreams
	// upstreamOwners records, per tenant, the runtime whose build last
	// synced the tenant's upstreams. See upstreams.go.
	upstreamOwners upstreamOwners
	proxy          *httputil.ReverseProxy
	// sites holds each loaded tenant's certificates and route policies.
	sites *tlsconf.Sites
	// httpsPort is the port of the TLS listener, for HTTPS redirects.
	httpsPort atomic.Int32

	// altSvc is the Alt-Svc value sent on TCP responses, empty while
	// HTTP/3 is off.
	altSvc atomic.Pointer[string]
	ready  atomic.Bool

	mu      sync.Mutex
	state   lifecycle
	addrs   Addrs
	servers servers
}

type lifecycle int

const (
	created lifecycle = iota
	started
	stopped
)

// ownedHeaders are response headers that the edge sets on every response
// and removes from upstream responses.
var ownedHeaders = []string{"Alt-Svc", "X-Request-Id", pluginsHeader}

// New checks cfg and returns an Edge that is not yet listening.
func New(cfg Config) (*Edge, error) {
	if cfg.Source == nil {
		return nil, errors.New("edge config: Source is required")
	}
	if cfg.HTTPSAddr != "" && cfg.TLSConfig == nil {
		return nil, errors.New("edge config: TLSConfig is required when HTTPSAddr is set")
	}

	applyLimitDefaults(&cfg)
	baseDomain := strings.Trim(strings.ToLower(cfg.BaseDomain), ".")
	if baseDomain == "" {
		baseDomain = DefaultBaseDomain
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	e := &Edge{
		cfg:        cfg,
		baseDomain: baseDomain,
		log:        logger,
		metrics:    metrics.New(),
		compiler:   chain.NewCompiler(0),
		supervisor: chain.NewSupervisor(logger),
		services:   cfg.PluginServices,
		logHooks:   newLogSlots(logger),
		transport:  proxy.NewUpstreams(proxy.UpstreamsOptions{Transport: proxy.TransportOptions{ResponseHeaderTimeout: cfg.UpstreamTimeout, Guard: cfg.UpstreamGuard}, Logger: logger}),
		sites:      tlsconf.NewSites(),
	}
	e.proxy = proxy.New(e.transport, ownedHeaders, cfg.TrustedProxies, logger)
	logUpstreamGuard(logger, cfg.UpstreamGuard)
	e.observer = newObserver(cfg, e.metrics)
	e.supervisor.SetObserver(e.observer.hookCalled)
	if len(cfg.Sandbox.Command) > 0 {
		if cfg.Sandbox.Logger == nil {
			cfg.Sandbox.Logger = logger
		}
		pool, err := sandbox.New(cfg.Sandbox)
		if err != nil {
			return nil, err
		}
		pool.LogConfinement("plugin workers")
		e.sandbox = pool
	}
	if cfg.PluginPublicKey != nil {
		e.compiler.RequireSignatures(cfg.PluginPublicKey)
	}
	e.preflight = preflight.New(e.compiler, e.metrics.Registry(), logger)
	if e.sandbox != nil {
		e.preflight.SetSandbox(e.sandbox)
	}
	if e.services == nil {
		e.services = hostsvc.New(logger, nil)
	}

	store, err := cache.New(cache.Options{
		Source:  cfg.Source,
		Build:   e.build,
		MaxCost: cfg.CacheBytes,
		Logger:  logger,
		Metrics: e.metrics,
		Reason:  rejectionReason,
		Retry:   unjudged,
		OnLeave: e.releaseUpstreams,
	})
	if err != nil {
		return nil, err
	}
	e.store = store
	return e, nil
}

// build compiles a bundle with the edge's shared plugin compiler. When the
// tenant already serves traffic, the new bundle must also pass its plugins'
// test vectors, or the old runtime keeps serving. Sandboxed bindings run
// theirs in a plugin worker started for the check.
//
// A first load runs them only when Config.Fallback has an older accepted
// revision to serve instead, because the load is on the request path and
// without an older revision there is nothing better to serve. A first load
// whose vectors fail then serves that older revision, and the new one is
// reported as rejected, as on a reload. One whose pre-flight did not run
// (preflight.ErrNotRun) serves the older revision too, and the cache builds
// the new one again later without reporting it.
func (e *Edge) build(b *bundle.Bundle) (*runtime.Runtime, error) {
	rt, err := runtime.BuildWith(b, runtime.Options{Compiler: e.compiler, Supervisor: e.supervisor, Sandbox: e.sandbox})
	if err != nil {
		return nil, err
	}

	_, serving := e.store.Loaded(strings.ToLower(b.Tenant))
	var fallback *bundle.Bundle
	if !serving {
		fallback = e.olderFallback(b)
	}
	if serving || fallback != nil {
		if err := e.preflight.Check(context.Background(), b); err != nil {
			if serving {
				return nil, err
			}
			e.deferToFallback(b, fallback, err)
			return e.build(fallback)
		}
	}

	e.storeSite(b)
	e.syncUpstreams(b, rt)
	if e.cfg.OnBuilt != nil {
		e.cfg.OnBuilt(b)
	}
	return rt, nil
}

// deferToFallback records why a first load serves fallback instead of b,
// whose pre-flight failed with err. A pre-flight that did not run is no
// rejection: the store builds b again later.
func (e *Edge) deferToFallback(b, fallback *bundle.Bundle, err error) {
	tenant := strings.ToLower(b.Tenant)
	if unjudged(err) {
		e.log.Warn("first load serves the last-known-good revision, because the newest could not be checked; retrying",
			"tenant", b.Tenant, "revision", fallback.Revision, "pending_revision", b.Revision, "error", rejectionReason(err))
		e.store.RetryLater(tenant, b.Revision)
		return
	}

	e.store.Reject(tenant, b.Revision, err)
	e.log.Warn("first load serves the last-known-good revision, because the newest failed its pre-flight",
		"tenant", b.Tenant, "revision", fallback.Revision, "rejected_revision", b.Revision)
}

// olderFallback returns the tenant's last-known-good bundle from
// Config.Fallback when it is older than b, and nil otherwise.
func (e *Edge) olderFallback(b *bundle.Bundle) *bundle.Bundle {
	if e.cfg.Fallback == nil {
		return nil
	}
	fallback := e.cfg.Fallback(b.Tenant)
	if fallback == nil || fallback.Tenant != b.Tenant || fallback.Revision >= b.Revision {
		return nil
	}
	return fallback
}

// Handler returns the handler that serves tenant traffic on every listener.
// It can also be mounted on a server of the caller's own.
func (e *Edge) Handler() http.Handler {
	return http.HandlerFunc(e.serveHTTP)
}

// Invalidate records that a tenant changed to revision. If the tenant is
// loaded, the edge fetches and compiles the new bundle in the background
// and swaps it in, while requests keep being served. It matches
// bundle.ChangeFunc and returns at once.
func (e *Edge) Invalidate(tenant string, revision int64) {
	e.store.Invalidate(strings.ToLower(tenant), revision)
}

// Addrs returns the bound addresses. They are empty before Start.
func (e *Edge) Addrs() Addrs {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addrs
}

// MetricsRegistry returns the registry that the admin listener serves at
// /metrics, so that other parts of the process can add their collectors.
func (e *Edge) MetricsRegistry() *prometheus.Registry {
	return e.metrics.Registry()
}

// applyLimitDefaults replaces the zero protocol limits of cfg with their
// defaults.
func applyLimitDefaults(cfg *Config) {
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
}

// logUpstreamGuard logs which non-public addresses tenants' upstreams may
// reach, and warns when the edge checks none.
func logUpstreamGuard(logger *slog.Logger, guard *netguard.Guard) {
	switch {
	case guard == nil:
		logger.Warn("upstream addresses are not checked, so tenants' upstreams may reach the edge's own listeners and private networks")
	case len(guard.Networks) > 0 || len(guard.Addresses) > 0:
		logger.Info("tenants' upstreams may reach public addresses and these others", "networks", guard.Networks, "addresses", guard.Addresses, "local_addresses_blocked", len(guard.Local))
	default:
		logger.Info("tenants' upstreams may reach public addresses only", "local_addresses_blocked", len(guard.Local))
	}
}
