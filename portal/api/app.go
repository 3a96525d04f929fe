// Package api serves the portal's REST API under /api/v1 with Fiber: tenants
// and their upstreams, routes and plugin bindings, and the plugin catalog.
// Every error response is an RFC 9457 problem.
package api

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"portcullis.dev/portal/store"
	portalsync "portcullis.dev/portal/sync"
)

// MinTokenLength is the minimum length of the operator token in bytes.
const MinTokenLength = 16

// Timeouts of the HTTP server: reading one request, writing one response,
// and keeping an idle keep-alive connection open.
const (
	readTimeout  = 15 * time.Second
	writeTimeout = 15 * time.Second
	idleTimeout  = 60 * time.Second
)

// Options configures the API.
type Options struct {
	Store *store.Store
	// AdminToken is the operator's bearer token for /api/v1. Users send
	// their own tokens instead, see access.go.
	AdminToken string
	// Logger receives one line per request. Nil discards them.
	Logger *slog.Logger
	// Feed wakes the change feed readers of the edge sync API. Nil means a
	// broadcaster of its own that nothing wakes, so long polls and streams
	// see new changes only when their wait ends.
	Feed *portalsync.Broadcaster
	// Limits are the login limits. Nil means limits of the API's own;
	// pass the same value to the web UI to share them.
	Limits *LoginLimits
	// PluginKey is the public half of the key that signs plugin versions,
	// which edges fetch from GET /api/v1/edge/plugin-key. Nil serves 404
	// there, and edges then run unsigned code.
	PluginKey ed25519.PublicKey
	// DNSResolver is the "host:port" of the DNS server that domain
	// verifications ask for TXT records. Empty means the system resolver.
	DNSResolver string
	// Tracer runs a route's chain for POST .../routes/{route}/try. Nil
	// means TraceInProcess.
	Tracer Tracer
}

// handlers holds what the endpoints share.
type handlers struct {
	store  *store.Store
	feed   *portalsync.Broadcaster
	logger *slog.Logger
	limits *LoginLimits
	// pluginKey is Options.PluginKey.
	pluginKey ed25519.PublicKey
	// tracer is Options.Tracer or TraceInProcess.
	tracer Tracer
	// lookupTXT reads the TXT records of domain verifications.
	lookupTXT store.TXTLookup
}

// NewApp returns a Fiber app with the request middleware, GET /healthz and
// the /api/v1 routes. The caller may add more routes, such as the web page,
// before serving it.
func NewApp(opts Options) (*fiber.App, error) {
	if opts.Store == nil {
		return nil, errors.New("create api: store is missing")
	}
	if len(opts.AdminToken) < MinTokenLength {
		return nil, fmt.Errorf("create api: admin token is %d bytes, below the minimum of %d: use a long random token", len(opts.AdminToken), MinTokenLength)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	app := fiber.New(fiber.Config{
		AppName:               "portcullis-portal",
		BodyLimit:             MaxBodyBytes,
		CaseSensitive:         true,
		StrictRouting:         true,
		Immutable:             true,
		DisableStartupMessage: true,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           idleTimeout,
		ErrorHandler:          errorHandler(logger),
	})

	app.Use(assignRequestID, logRequests(logger), recover.New())

	feed := opts.Feed
	if feed == nil {
		feed = portalsync.NewBroadcaster()
	}
	limits := opts.Limits
	if limits == nil {
		limits = NewLoginLimits()
	}
	lookupTXT, err := NewTXTLookup(opts.DNSResolver)
	if err != nil {
		return nil, fmt.Errorf("create api: %w", err)
	}
	tracer := opts.Tracer
	if tracer == nil {
		tracer = TraceInProcess
	}
	h := &handlers{store: opts.Store, feed: feed, logger: logger, limits: limits, lookupTXT: lookupTXT, pluginKey: opts.PluginKey, tracer: tracer}
	app.Get("/healthz", handle(h.health))
	app.Get("/api/v1/openapi.json", serveOpenAPI)
	h.registerEdgeSync(app)
	h.registerEdgePluginKey(app)
	h.registerEdgeDomains(app)
	h.registerAccounts(app)

	v1 := app.Group("/api/v1", h.authenticate(opts.AdminToken), h.authorize, h.recordChange)
	h.registerTenants(v1)
	h.registerConsumers(v1)
	h.registerDomains(v1)
	h.registerPlugins(v1)
	h.registerInstalls(v1)
	h.registerEdges(v1)
	h.registerTokens(v1)
	h.registerMembers(v1)
	h.registerAudit(v1)
	return app, nil
}

func (h *handlers) health(c *fiber.Ctx) (int, any, error) {
	if err := h.store.Ping(requestContext(c)); err != nil {
		return failed(newProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", "the database did not respond to a query: check the portal log"))
	}
	return ok(map[string]string{"status": "ok"})
}

func (h *handlers) registerTenants(v1 fiber.Router) {
	v1.Get("/tenants", handle(h.listTenants))
	v1.Post("/tenants", handle(h.createTenant))
	v1.Get("/tenants/:slug", handle(h.getTenant))
	v1.Put("/tenants/:slug", handle(h.updateTenant))
	v1.Delete("/tenants/:slug", handle(h.deleteTenant))

	v1.Get("/tenants/:slug/upstreams", handle(h.listUpstreams))
	v1.Post("/tenants/:slug/upstreams", handle(h.createUpstream))
	v1.Get("/tenants/:slug/upstreams/:name", handle(h.getUpstream))
	v1.Put("/tenants/:slug/upstreams/:name", handle(h.updateUpstream))
	v1.Delete("/tenants/:slug/upstreams/:name", handle(h.deleteUpstream))

	v1.Get("/tenants/:slug/routes", handle(h.listRoutes))
	v1.Post("/tenants/:slug/routes", handle(h.createRoute))
	v1.Get("/tenants/:slug/routes/:name", handle(h.getRoute))
	v1.Put("/tenants/:slug/routes/:name", handle(h.updateRoute))
	v1.Delete("/tenants/:slug/routes/:name", handle(h.deleteRoute))

	v1.Get("/tenants/:slug/export", handle(h.exportConfig))
	v1.Post("/tenants/:slug/apply", handle(h.applyConfig))

	v1.Get("/tenants/:slug/bindings", handle(h.listBindings))
	v1.Post("/tenants/:slug/bindings", handle(h.createBinding))
	v1.Get("/tenants/:slug/bindings/:id", handle(h.getBinding))
	v1.Patch("/tenants/:slug/bindings/:id", handle(h.updateBinding))
	v1.Delete("/tenants/:slug/bindings/:id", handle(h.deleteBinding))
}
