package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/edge/observe"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/portal/store"
	"portcullis.dev/services/internal/allinone"
	"portcullis.dev/services/internal/edgenode"
	"portcullis.dev/tenants/netguard"
)

// shutdownGrace is how long in-flight requests get to finish after SIGINT
// or SIGTERM.
const shutdownGrace = 15 * time.Second

// process is a running role: the all-in-one server or an edge node.
type process interface {
	Wait(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

func runServe(args []string) int {
	cfg, edgeCfg, logLevel, err := parseServeFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "portcullis serve:", err)
		return 2
	}
	cfg.Logger = newLogger(logLevel)
	edgeCfg.Logger = cfg.Logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	server, err := start(ctx, cfg, edgeCfg)
	if err != nil {
		cfg.Logger.Error("start failed", "error", err)
		return 1
	}

	err = server.Wait(ctx)
	stop()
	if err != nil {
		cfg.Logger.Error("server failed", "error", err)
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if shutdownErr := server.Shutdown(shutdownCtx); shutdownErr != nil {
		cfg.Logger.Error("shutdown incomplete", "error", shutdownErr)
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

func start(ctx context.Context, cfg allinone.Config, edgeCfg edgenode.Config) (process, error) {
	if cfg.Role == "edge" {
		node, err := edgenode.Start(edgeCfg)
		if err != nil {
			return nil, err
		}
		return edgeProcess{node}, nil
	}

	server, err := allinone.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Demo {
		fmt.Print(server.DemoInstructions())
	}
	return server, nil
}

// edgeProcess adapts an edge node to process: it runs until ctx ends.
type edgeProcess struct {
	*edgenode.Node
}

func (edgeProcess) Wait(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func parseServeFlags(args []string, output io.Writer) (allinone.Config, edgenode.Config, string, error) {
	var cfg allinone.Config
	var edgeCfg edgenode.Config
	var logLevel string

	flags := flag.NewFlagSet("portcullis serve", flag.ContinueOnError)
	flags.SetOutput(output)
	flags.StringVar(&cfg.Role, "role", env("ROLE", "all"), "roles to run: all, portal, or edge (env PORTCULLIS_ROLE)")
	registerDatabaseFlags(flags, &cfg.DB, &cfg.DataDir, "folder for the SQLite database, operator token and development certificate")
	flags.StringVar(&edgeCfg.PortalURL, "portal-url", env("PORTAL_URL", ""), "edge role: base URL of the portal, such as http://127.0.0.1:9080 (env PORTCULLIS_PORTAL_URL)")
	flags.StringVar(&edgeCfg.PluginPublicKey, "plugin-public-key", env("PLUGIN_PUBLIC_KEY", ""), "edge role: the portal's base64 ed25519 key that verifies plugin signatures, from its plugin-signing.pub file; empty fetches it from the portal at start (env PORTCULLIS_PLUGIN_PUBLIC_KEY)")
	flags.StringVar(&edgeCfg.EdgeToken, "edge-token", env("EDGE_TOKEN", ""), "edge role: enrollment token from POST /api/v1/edge-tokens; prefer the environment variable (env PORTCULLIS_EDGE_TOKEN)")
	flags.StringVar(&edgeCfg.Region, "region", env("REGION", "default"), "edge role: region name reported to the portal (env PORTCULLIS_REGION)")
	flags.StringVar(&edgeCfg.NodeID, "node-id", env("NODE_ID", defaultNodeID()), "edge role: unique node name, default the host name (env PORTCULLIS_NODE_ID)")
	flags.StringVar(&edgeCfg.RedisURL, "redis", env("REDIS", ""), "Redis URL, such as redis://127.0.0.1:6379/11: the edge role's L2 shared by the region, and in every role with an edge the store of the plugins' ctx.limit.redis; empty runs without them (env PORTCULLIS_REDIS)")
	cacheBytes, cacheErr := envInt("CACHE_BYTES", 0)
	flags.Int64Var(&edgeCfg.CacheBytes, "cache-bytes", cacheBytes, "edge role: L1 budget in bytes of bundle JSON; 0 means 64 MiB (env PORTCULLIS_CACHE_BYTES)")
	flags.StringVar(&edgeCfg.FeedMode, "feed-mode", env("FEED_MODE", "stream"), "edge role: stream (Server-Sent Events) or poll (long polls) (env PORTCULLIS_FEED_MODE)")
	flags.StringVar(&cfg.PortalAddr, "portal-addr", env("PORTAL_ADDR", "127.0.0.1:9080"), "portal REST API and web UI address (env PORTCULLIS_PORTAL_ADDR)")
	flags.StringVar(&cfg.HTTPAddr, "http-addr", env("HTTP_ADDR", ":8080"), "edge plain HTTP/1.1 and h2c address; empty disables (env PORTCULLIS_HTTP_ADDR)")
	flags.StringVar(&cfg.HTTPSAddr, "https-addr", env("HTTPS_ADDR", ":8443"), "edge TLS address on TCP (HTTP/1.1, HTTP/2) and UDP (HTTP/3); empty disables (env PORTCULLIS_HTTPS_ADDR)")
	flags.StringVar(&cfg.AdminAddr, "admin-addr", env("ADMIN_ADDR", "127.0.0.1:9180"), "edge health, readiness and metrics address (env PORTCULLIS_ADMIN_ADDR)")
	flags.StringVar(&cfg.BaseDomain, "base-domain", env("BASE_DOMAIN", "localhost"), "tenant acme is served at Host acme.<base domain> (env PORTCULLIS_BASE_DOMAIN)")
	demoDefault, demoErr := envBool("DEMO")
	flags.BoolVar(&cfg.Demo, "demo", demoDefault, "create the demo tenant, its upstream and a plugin, and print URLs to try (env PORTCULLIS_DEMO)")
	catalogDefault, catalogErr := envBool("CATALOG")
	flags.BoolVar(&cfg.Catalog, "catalog", catalogDefault, "portal: publish the first-party plugin catalogue (key-auth, jwt-auth, limit-count, proxy-rewrite, response-rewrite, cors) at start, marked reviewed; versions that exist stay as they are (env PORTCULLIS_CATALOG)")
	flags.StringVar(&cfg.DemoAddr, "demo-addr", env("DEMO_ADDR", "127.0.0.1:9081"), "address of the demo upstream that --demo starts (env PORTCULLIS_DEMO_ADDR)")
	trustedProxies := env("TRUSTED_PROXIES", "")
	flags.StringVar(&trustedProxies, "trusted-proxies", trustedProxies, "comma-separated CIDRs, such as 10.0.0.0/8, whose Forwarded and X-Forwarded-* headers the edge keeps; empty trusts no client (env PORTCULLIS_TRUSTED_PROXIES)")
	flags.StringVar(&cfg.DNSResolver, "dns-resolver", env("DNS_RESOLVER", ""), "portal: host:port of the DNS server that custom domain verifications ask for TXT records; empty uses the system resolver (env PORTCULLIS_DNS_RESOLVER)")
	workers, workersErr := envInt("PLUGIN_WORKERS", sandbox.DefaultMaxWorkers)
	flags.IntVar(&cfg.Sandbox.MaxWorkers, "plugin-workers", int(workers), "edge: plugin worker processes that run unreviewed plugins, at most this many at once; 0 runs every plugin inside the edge process (env PORTCULLIS_PLUGIN_WORKERS)")
	outboundAllow := env("PLUGIN_OUTBOUND_ALLOW", "")
	flags.StringVar(&outboundAllow, "plugin-outbound-allow", outboundAllow, "edge: comma-separated CIDRs, such as 10.0.0.0/8,127.0.0.1/32, that plugins' ctx.http may reach although they are loopback, private, link-local, unspecified, multicast or carrier-grade NAT addresses; empty lets plugins reach public addresses only (env PORTCULLIS_PLUGIN_OUTBOUND_ALLOW)")
	upstreamAllow := env("UPSTREAM_ALLOW", "")
	flags.StringVar(&upstreamAllow, "upstream-allow", upstreamAllow, "edge: comma-separated CIDRs such as 10.0.0.0/8, or addresses with a port such as 127.0.0.1:9081, that tenants' upstream targets may reach although they are not public addresses (loopback, private, link-local, reserved, this machine's own and the others that docs/operations.md lists); empty lets upstreams reach public addresses only, besides the all-in-one --demo upstream (env PORTCULLIS_UPSTREAM_ALLOW)")
	flags.StringVar(&cfg.Sandbox.CgroupParent, "plugin-cgroup", env("PLUGIN_CGROUP", ""), "edge: cgroup v2 folder, with the memory controller enabled for its children, in which each plugin worker gets a child cgroup with memory.max; empty bounds workers by RLIMIT_DATA alone (env PORTCULLIS_PLUGIN_CGROUP)")
	workerUser := env("PLUGIN_WORKER_USER", workerUserAuto)
	flags.StringVar(&workerUser, "plugin-worker-user", workerUser, "user that plugin workers, also the portal's check workers, run as: a name or UID, or USER:GROUP, which needs CAP_SETUID and CAP_SETGID as root has outside a container; \"edge\" keeps the edge's user; empty runs them as nobody where the edge may switch to it, and as the edge's user otherwise (env PORTCULLIS_PLUGIN_WORKER_USER)")
	flags.StringVar(&cfg.Observe.OTLPEndpoint, "otlp-endpoint", env("OTLP_ENDPOINT", ""), "edge: OTLP/HTTP URL of the trace collector, such as http://127.0.0.1:4318 (path /v1/traces when none is given); empty turns tracing off (env PORTCULLIS_OTLP_ENDPOINT)")
	sampleRatio := env("TRACE_SAMPLE_RATIO", "1")
	flags.StringVar(&sampleRatio, "trace-sample-ratio", sampleRatio, "edge: share of traces started at the edge that are sampled, from 0 to 1; a client's traceparent keeps its own sampled flag (env PORTCULLIS_TRACE_SAMPLE_RATIO)")
	flags.StringVar(&cfg.Observe.AccessLog, "access-log", env("ACCESS_LOG", ""), "edge: write one JSON line per request to stdout, stderr or a file path; empty turns it off (env PORTCULLIS_ACCESS_LOG)")
	flags.StringVar(&logLevel, "log-level", env("LOG_LEVEL", "info"), "log level: debug, info, warn or error (env PORTCULLIS_LOG_LEVEL)")

	if err := flags.Parse(args); err != nil {
		return cfg, edgeCfg, "", err
	}
	if flags.NArg() > 0 {
		return cfg, edgeCfg, "", fmt.Errorf("unexpected argument %q: serve takes flags only", flags.Arg(0))
	}
	prefixes, prefixErr := parsePrefixes(trustedProxies, "trusted proxy", "--trusted-proxies, env PORTCULLIS_TRUSTED_PROXIES")
	allowedNetworks, allowErr := parsePrefixes(outboundAllow, "plugin outbound network", "--plugin-outbound-allow, env PORTCULLIS_PLUGIN_OUTBOUND_ALLOW")
	guard, upstreamErr := upstreamGuard(upstreamAllow)
	observeErr := parseSampleRatio(sampleRatio, &cfg.Observe)
	var userErr error
	cfg.Sandbox.User, userErr = resolveWorkerUser(workerUser, currentIdentity())
	if err := errors.Join(checkRole(cfg.Role), demoErr, catalogErr, cacheErr, workersErr, prefixErr, allowErr, upstreamErr, observeErr, userErr, checkLogLevel(logLevel), checkBaseDomain(cfg.BaseDomain), checkEdgeFlags(edgeCfg, cfg.Sandbox.MaxWorkers), checkDB(cfg.DB), checkRedisURL(edgeCfg.RedisURL)); err != nil {
		return cfg, edgeCfg, "", err
	}
	cfg.AdminToken = os.Getenv("PORTCULLIS_ADMIN_TOKEN")
	cfg.SecretKey = os.Getenv("PORTCULLIS_SECRET_KEY")

	cfg.RedisURL = edgeCfg.RedisURL
	edgeCfg.DataDir = cfg.DataDir
	edgeCfg.BaseDomain = cfg.BaseDomain
	cfg.TrustedProxies, edgeCfg.TrustedProxies = prefixes, prefixes
	cfg.PluginOutboundAllow, edgeCfg.PluginOutboundAllow = allowedNetworks, allowedNetworks
	cfg.UpstreamGuard, edgeCfg.UpstreamGuard = guard, guard
	edgeCfg.HTTPAddr = cfg.HTTPAddr
	edgeCfg.HTTPSAddr = cfg.HTTPSAddr
	edgeCfg.AdminAddr = cfg.AdminAddr
	edgeCfg.Observe = cfg.Observe
	if err := setWorkerCommand(&cfg.Sandbox); err != nil {
		return cfg, edgeCfg, "", err
	}
	if cfg.Sandbox.MaxWorkers == 0 && cfg.Sandbox.CgroupParent != "" {
		return cfg, edgeCfg, "", fmt.Errorf("--plugin-cgroup %q has no effect with --plugin-workers 0, which runs every plugin inside the edge: drop --plugin-cgroup or allow plugin workers", cfg.Sandbox.CgroupParent)
	}
	edgeCfg.Sandbox = cfg.Sandbox
	return cfg, edgeCfg, logLevel, nil
}

// upstreamAllowSetting names --upstream-allow in errors.
const upstreamAllowSetting = "--upstream-allow, env PORTCULLIS_UPSTREAM_ALLOW"

// upstreamGuard returns the guard of tenants' upstream addresses for the
// value of --upstream-allow, whose entries are CIDRs or single addresses
// with a port. The guard also blocks this machine's own interface
// addresses.
func upstreamGuard(list string) (*netguard.Guard, error) {
	guard := &netguard.Guard{Subject: "upstreams", Setting: upstreamAllowSetting}
	var networks []string
	for _, field := range strings.Split(list, ",") {
		field = strings.TrimSpace(field)
		if addrPort, err := netip.ParseAddrPort(field); err == nil && !strings.Contains(field, "/") {
			guard.Addresses = append(guard.Addresses, netip.AddrPortFrom(addrPort.Addr().Unmap(), addrPort.Port()))
			continue
		}
		networks = append(networks, field)
	}

	prefixes, err := parsePrefixes(strings.Join(networks, ","), "upstream network", upstreamAllowSetting)
	if err != nil {
		return nil, fmt.Errorf("%w; an entry may also be one address and port, such as 127.0.0.1:9081", err)
	}
	guard.Networks = netguard.Masked(prefixes)
	guard.Local, err = netguard.LocalAddresses()
	if err != nil {
		return nil, err
	}
	return guard, nil
}

// registerDatabaseFlags defines --db and --data-dir, which locate the
// portal's database for serve and for plugin check-stored: an empty --db
// means the SQLite file portcullis.db in the data folder. dataDirHelp is
// the help text of --data-dir, which names what the command uses in the
// data folder.
func registerDatabaseFlags(flags *flag.FlagSet, db, dataDir *string, dataDirHelp string) {
	flags.StringVar(db, "db", env("DB", ""), "portal database: postgres://USER@HOST:PORT/DB or sqlite://PATH; default sqlite in the data dir (env PORTCULLIS_DB)")
	flags.StringVar(dataDir, "data-dir", env("DATA_DIR", "./data"), dataDirHelp+" (env PORTCULLIS_DATA_DIR)")
}

// checkRole accepts the roles that serve runs.
func checkRole(role string) error {
	switch role {
	case "all", "portal", "edge":
		return nil
	}
	return fmt.Errorf("role %q is invalid: use all, portal or edge (--role, env PORTCULLIS_ROLE)", role)
}

// checkEdgeFlags checks the edge role's flags that the flag package takes
// as any string or number.
func checkEdgeFlags(edgeCfg edgenode.Config, workers int) error {
	var errs []error
	if edgeCfg.FeedMode != "stream" && edgeCfg.FeedMode != "poll" {
		errs = append(errs, fmt.Errorf("feed mode %q is invalid: use stream or poll (--feed-mode, env PORTCULLIS_FEED_MODE)", edgeCfg.FeedMode))
	}
	if edgeCfg.CacheBytes < 0 {
		errs = append(errs, fmt.Errorf("cache bytes %d is negative: use 0 for 64 MiB, or a positive size (--cache-bytes, env PORTCULLIS_CACHE_BYTES)", edgeCfg.CacheBytes))
	}
	if workers < 0 {
		errs = append(errs, fmt.Errorf("plugin workers %d is negative: use 0 to run every plugin inside the edge, or a positive count (--plugin-workers, env PORTCULLIS_PLUGIN_WORKERS)", workers))
	}
	return errors.Join(errs...)
}

// checkRedisURL checks the URL of --redis, so a wrong scheme fails at start
// with the flag's name instead of deep in the edge's setup.
func checkRedisURL(raw string) error {
	if raw == "" {
		return nil
	}
	if _, err := redis.ParseURL(raw); err != nil {
		return fmt.Errorf("redis URL %q is invalid: %w: use redis://HOST:PORT/DB or rediss:// for TLS (--redis, env PORTCULLIS_REDIS)", store.RedactURL(raw), err)
	}
	return nil
}

// checkDB rejects a database URL whose scheme the portal cannot open, which
// it would otherwise take for a SQLite file path.
func checkDB(db string) error {
	scheme, _, found := strings.Cut(db, "://")
	if !found {
		return nil
	}
	switch scheme {
	case "postgres", "postgresql", "sqlite":
		return nil
	}
	return fmt.Errorf("database %q has the scheme %q, which the portal does not support: use postgres://... or sqlite://PATH (--db, env PORTCULLIS_DB)", store.RedactURL(db), scheme)
}

// parseSampleRatio sets the trace sample ratio of opts and checks opts.
func parseSampleRatio(value string, opts *observe.Options) error {
	ratio, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return fmt.Errorf("trace sample ratio %q is invalid: use a number from 0 to 1", value)
	}
	opts.SampleRatio = ratio
	return opts.Check()
}

// envInt reads an integer variable. An unset or empty variable is
// fallback.
func envInt(name string, fallback int64) (int64, error) {
	text := os.Getenv("PORTCULLIS_" + name)
	if text == "" {
		return fallback, nil
	}
	value, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return fallback, fmt.Errorf("PORTCULLIS_%s is %q: use a whole number", name, text)
	}
	return value, nil
}

func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "edge"
	}
	return host
}

func env(name, fallback string) string {
	if value, ok := os.LookupEnv("PORTCULLIS_" + name); ok {
		return value
	}
	return fallback
}

// envBool reads a boolean variable. An unset or empty variable is false.
func envBool(name string) (bool, error) {
	value := os.Getenv("PORTCULLIS_" + name)
	switch strings.ToLower(value) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("PORTCULLIS_%s is %q: use true or false", name, value)
}

func checkLogLevel(level string) error {
	var parsed slog.Level
	if err := parsed.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("log level %q is invalid: use debug, info, warn or error", level)
	}
	return nil
}

var domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// checkBaseDomain checks that tenants can be served below domain.
func checkBaseDomain(domain string) error {
	if len(domain) > 200 || !domainPattern.MatchString(domain) {
		return fmt.Errorf("base domain %q is invalid: use a lowercase DNS name such as localhost or api.example.com", domain)
	}
	return nil
}

func newLogger(level string) *slog.Logger {
	var parsed slog.Level
	_ = parsed.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: parsed}))
}

// parsePrefixes parses a comma-separated list of CIDRs. Empty is no list.
// An error names the entry as item, such as "trusted proxy", and ends with
// setting, the flag and environment variable to fix.
func parsePrefixes(list, item, setting string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, field := range strings.Split(list, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		if strings.Contains(field, "%") {
			return nil, fmt.Errorf("%s %q has an IPv6 zone, which a CIDR cannot carry: leave out the %%zone part (%s)", item, field, setting)
		}
		prefix, err := netip.ParsePrefix(field)
		if addr, addrErr := netip.ParseAddr(field); err != nil && addrErr == nil {
			return nil, fmt.Errorf("%s %q is an address, not a CIDR: write %s/%d for this address alone (%s)", item, field, field, addr.BitLen(), setting)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %q is not a CIDR such as 10.0.0.0/8 (%s)", item, field, setting)
		}
		prefixes = append(prefixes, prefix)
	}
	return prefixes, nil
}
