// Package edgenode runs the edge role on its own: an edge that follows a
// portal's change feed over the network, with an optional Redis L2 and
// last-known-good bundles under its data folder.
package edgenode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/edge"
	"portcullis.dev/edge/l2"
	"portcullis.dev/edge/lkg"
	"portcullis.dev/edge/observe"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/edge/sync"
	"portcullis.dev/edge/tlsconf"
	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/portal/store"
	"portcullis.dev/services/internal/datadir"
	"portcullis.dev/tenants/netguard"
)

// Config configures an edge node.
type Config struct {
	PortalURL string
	// EdgeToken is the enrollment token from POST /api/v1/edge-tokens.
	EdgeToken string
	// PluginPublicKey is the portal's base64 ed25519 key that verifies
	// plugin signatures. Empty fetches it from the portal at start.
	PluginPublicKey string
	Region          string
	NodeID          string
	// RedisURL is the L2, such as "redis://127.0.0.1:6379/11". Empty runs
	// without an L2.
	RedisURL   string
	DataDir    string
	BaseDomain string
	// TrustedProxies is edge.Config.TrustedProxies.
	TrustedProxies []netip.Prefix
	// PluginOutboundAllow lists the networks that plugins' outbound
	// requests may reach although they are not public
	// (hostsvc.WithOutboundAllow). Empty allows public addresses only.
	PluginOutboundAllow []netip.Prefix
	// UpstreamGuard is edge.Config.UpstreamGuard.
	UpstreamGuard *netguard.Guard
	HTTPAddr      string
	HTTPSAddr     string
	AdminAddr     string
	// CacheBytes is the L1 budget; zero means edge.DefaultCacheBytes.
	CacheBytes int64
	// FeedMode is sync.ModeStream (the default) or sync.ModePoll.
	FeedMode string
	// Sandbox is edge.Config.Sandbox: the plugin worker processes.
	Sandbox sandbox.Config
	// Observe turns on the edge's tracing and access log.
	Observe observe.Options
	Logger  *slog.Logger
}

// Node is a running edge node.
type Node struct {
	edge  *edge.Edge
	agent *sync.Agent
	l2    *l2.Cache
	// redis serves the plugins' ctx.limit.redis, on the same Redis as l2.
	redis  *redis.Client
	cancel context.CancelFunc
	done   chan struct{}
	// observe contains the edge's tracer provider and access log.
	observe *observe.Setup
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Start opens the data folder, starts the listeners and the sync agent, and
// returns. The edge serves from disk at once when the portal is down.
func Start(cfg Config) (*Node, error) {
	if err := check(cfg); err != nil {
		return nil, err
	}
	logger := cfg.Logger.With("role", "edge", "edge", cfg.NodeID, "region", cfg.Region)

	dir, err := datadir.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	disk, err := lkg.Open(filepath.Join(cfg.DataDir, "edge"))
	if err != nil {
		return nil, err
	}
	client, err := sync.NewClient(cfg.PortalURL, cfg.EdgeToken)
	if err != nil {
		return nil, err
	}

	node := &Node{done: make(chan struct{})}
	if cfg.RedisURL != "" {
		node.l2, err = l2.Open(l2.Options{URL: cfg.RedisURL, Logger: logger})
		if err != nil {
			return nil, err
		}
		if node.redis, err = hostsvc.NewRedisClient(cfg.RedisURL); err != nil {
			node.closeL2()
			return nil, err
		}
	}

	if err := node.startEdge(cfg, dir, disk, client, logger); err != nil {
		node.closeL2()
		return nil, err
	}
	return node, nil
}

func check(cfg Config) error {
	var errs []error
	if cfg.PortalURL == "" {
		errs = append(errs, errors.New("--portal-url is required for the edge role"))
	}
	if cfg.EdgeToken == "" {
		errs = append(errs, errors.New("--edge-token (or PORTCULLIS_EDGE_TOKEN) is required for the edge role"))
	}
	if !namePattern.MatchString(cfg.Region) {
		errs = append(errs, fmt.Errorf("--region %q must be 1 to 63 letters, digits, '.', '_' or '-'", cfg.Region))
	}
	if !namePattern.MatchString(cfg.NodeID) {
		errs = append(errs, fmt.Errorf("--node-id %q must be 1 to 63 letters, digits, '.', '_' or '-'", cfg.NodeID))
	}
	if cfg.NodeID == store.AllInOneNodeID {
		errs = append(errs, fmt.Errorf("--node-id %q is reserved for the edge inside the all-in-one process: pick another", cfg.NodeID))
	}
	return errors.Join(errs...)
}

func (n *Node) startEdge(cfg Config, dir *datadir.Dir, disk *lkg.Dir, client *sync.Client, logger *slog.Logger) error {
	cert, err := dir.DevCertificate(cfg.BaseDomain)
	if err != nil {
		return err
	}

	// The Source needs the metrics, which live in the edge's registry, so
	// the edge gets the Source through a forwarding value.
	forward := &forwardSource{}
	domains := &tlsconf.Index{}
	services := hostsvc.New(logger, n.redis, hostsvc.WithOutboundAllow(cfg.PluginOutboundAllow))
	pluginKey, err := resolvePluginKey(cfg, dir, client, logger)
	if err != nil {
		return err
	}
	cfg.Observe.InstanceID = cfg.NodeID
	if n.observe, err = observe.Open(cfg.Observe); err != nil {
		return err
	}
	n.edge, err = edge.New(edge.Config{
		PluginPublicKey: pluginKey,
		PluginServices:  services,
		Source:          forward,
		OnBuilt:         forward.keep,
		Fallback:        forward.lastKnownGood,
		BaseDomain:      cfg.BaseDomain,
		TrustedProxies:  cfg.TrustedProxies,
		UpstreamGuard:   cfg.UpstreamGuard,
		HTTPAddr:        cfg.HTTPAddr,
		HTTPSAddr:       cfg.HTTPSAddr,
		AdminAddr:       cfg.AdminAddr,
		TLSConfig:       &tls.Config{Certificates: []tls.Certificate{cert}},
		Domains:         domains,
		CacheBytes:      cfg.CacheBytes,
		Sandbox:         cfg.Sandbox,
		TracerProvider:  n.observe.TracerProvider(),
		AccessLog:       n.observe.AccessLog(),
		Logger:          logger,
	})
	if err != nil {
		return fmt.Errorf("configure edge: %w", err)
	}

	metrics := sync.NewMetrics(n.edge.MetricsRegistry())
	source := sync.NewSource(sync.SourceOptions{Client: client, L2: n.l2, Disk: disk, Metrics: metrics, Logger: logger})
	forward.source = source

	n.agent, err = sync.NewAgent(sync.AgentOptions{
		Client:       client,
		Source:       source,
		Disk:         disk,
		Invalidate:   n.edge.Invalidate,
		Held:         n.edge.HeldRevisions,
		Domains:      domains,
		PluginErrors: sync.PluginErrorCounts(n.edge.MetricsRegistry()),
		Rejected:     n.rejectedRevisions,
		NodeID:       cfg.NodeID,
		Region:       cfg.Region,
		Mode:         cfg.FeedMode,
		Metrics:      metrics,
		// The agent names the node and region in its own lines.
		Logger: cfg.Logger.With("role", "edge"),
	})
	if err != nil {
		return err
	}

	if err := n.edge.Start(); err != nil {
		return fmt.Errorf("start edge: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.done)
		n.agent.Run(ctx)
	}()
	logger.Info("edge node started", "portal", cfg.PortalURL, "redis", cfg.RedisURL != "")
	return nil
}

// rejectedRevisions returns the edge's rejected revisions in the form of a
// heartbeat report.
func (n *Node) rejectedRevisions() map[string]sync.Rejection {
	rejected := n.edge.RejectedRevisions()
	if len(rejected) == 0 {
		return nil
	}

	result := make(map[string]sync.Rejection, len(rejected))
	for tenant, rejection := range rejected {
		result[tenant] = sync.Rejection{Revision: rejection.Revision, Reason: rejection.Reason}
	}
	return result
}

// Edge returns the node's edge.
func (n *Node) Edge() *edge.Edge {
	return n.edge
}

// Shutdown stops the sync agent, then drains the edge.
func (n *Node) Shutdown(ctx context.Context) error {
	if n.cancel != nil {
		n.cancel()
		<-n.done
	}
	err := errors.Join(n.edge.Shutdown(ctx), n.observe.Close(ctx))
	n.closeL2()
	return err
}

func (n *Node) closeL2() {
	if n.l2 != nil {
		_ = n.l2.Close()
	}
	if n.redis != nil {
		_ = n.redis.Close()
	}
}
