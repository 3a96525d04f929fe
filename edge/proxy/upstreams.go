package proxy

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/edge/health"
	"portcullis.dev/tenants/config"
)

// Upstreams is the edge-wide state behind every upstream: connection pools,
// target health, active checkers and retry budgets. It survives config
// reloads, and its RoundTrip sends a proxied request to a target of the
// call's balancer. It is safe for concurrent use.
type Upstreams struct {
	opts       TransportOptions
	health     *health.Registry
	budgets    *retryBudgets
	transports *transports
	log        *slog.Logger
	// budgetLogged is the Unix second of the last "retry budget exhausted"
	// log line. logBudgetExhausted skips the line within RetryWindow of it.
	budgetLogged atomic.Int64
}

// UpstreamsOptions configure Upstreams.
type UpstreamsOptions struct {
	Transport TransportOptions
	// MaxProbes bounds the active health probes in flight. Zero means
	// health.DefaultMaxProbes.
	MaxProbes int
	// RetryRatio and RetryFloor size the retry budget (see RetryBudget).
	// Zero means the defaults; pass a negative value for no retries
	// beyond the floor, or no floor.
	RetryRatio float64
	RetryFloor int
	// Logger receives target state changes and degraded paths. Nil is
	// silent.
	Logger *slog.Logger
}

// NewUpstreams returns the edge-wide upstream state. Call Close to stop its
// health checkers.
func NewUpstreams(opts UpstreamsOptions) *Upstreams {
	opts.Transport.fillDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ratio, floor := opts.RetryRatio, opts.RetryFloor
	switch {
	case ratio == 0:
		ratio = DefaultRetryRatio
	case ratio < 0:
		ratio = 0
	}
	switch {
	case floor == 0:
		floor = DefaultRetryFloor
	case floor < 0:
		floor = 0
	}

	return &Upstreams{
		opts:       opts.Transport,
		health:     health.NewRegistry(health.Options{MaxProbes: opts.MaxProbes, Logger: opts.Logger}),
		budgets:    &retryBudgets{ratio: ratio, floor: floor},
		transports: newTransports(opts.Transport),
		log:        opts.Logger,
	}
}

// Health returns the target health registry.
func (u *Upstreams) Health() *health.Registry {
	return u.health
}

// Sync applies the upstream list of a tenant's new runtime. It starts,
// restarts or stops the active checkers, drops the health of removed
// targets and closes the pools of removed upstreams. An upstream whose TLS
// config does not parse gets no checker, and the runtime build reports the
// error. Sync with no upstreams stops them all, which the edge does when a
// tenant leaves its runtime cache.
func (u *Upstreams) Sync(tenant string, upstreams []config.Upstream) {
	specs := make([]health.Upstream, 0, len(upstreams))
	live := map[transportKey]bool{}
	names := make(map[string]bool, len(upstreams))
	for i := range upstreams {
		upstream := &upstreams[i]
		names[upstream.Name] = true
		compiled, err := balancer.Compile(tenant, upstream)
		if err != nil {
			u.log.Error("upstream config is invalid; its health checks are off", "tenant", tenant, "upstream", upstream.Name, "error", err)
			continue
		}
		live[transportKey{tenant: tenant, upstream: upstream.Name, protocol: compiled.Protocol, tlsID: compiled.TLSID}] = true

		spec := health.Upstream{Name: upstream.Name, Targets: targetURLs(upstream)}
		if upstream.HealthCheck != nil && upstream.HealthCheck.Active != nil {
			spec.Active = upstream.HealthCheck.Active
			spec.Transport = u.transports.get(&compiled, config.DefaultIdleConnTimeout)
			spec.TransportID = compiled.Protocol + "/" + compiled.TLSID
		}
		specs = append(specs, spec)
	}

	u.health.Sync(tenant, specs)
	u.transports.retain(tenant, live)
	u.budgets.retain(tenant, names)
}

// CloseIdleConnections closes the idle connections of every pool.
func (u *Upstreams) CloseIdleConnections() {
	u.transports.closeIdle()
}

// Close stops the active health checkers and closes idle connections.
func (u *Upstreams) Close() {
	u.health.Close()
	u.transports.closeIdle()
}

func targetURLs(upstream *config.Upstream) []*url.URL {
	urls := make([]*url.URL, 0, len(upstream.Targets))
	for _, target := range upstream.Targets {
		if parsed, err := url.Parse(target.URL); err == nil {
			urls = append(urls, parsed)
		}
	}
	return urls
}

// logBudgetExhausted logs a retry that the budget rejected, at most once per
// RetryWindow.
func (u *Upstreams) logBudgetExhausted(upstream *balancer.Upstream, err error) {
	now := time.Now().Unix()
	last := u.budgetLogged.Load()
	if now-last < int64(RetryWindow/time.Second) || !u.budgetLogged.CompareAndSwap(last, now) {
		return
	}
	u.log.Error("retry budget exhausted; failed requests are not retried", "tenant", upstream.Tenant, "upstream", upstream.Name, "error", err)
}

// attemptContext returns the context of one attempt: the connect timeout
// as a value, and a cancel that fires after the response header timeout.
func (u *Upstreams) attemptContext(ctx context.Context, timeouts config.Timeouts) (context.Context, context.CancelCauseFunc, *time.Timer, time.Duration) {
	headerTimeout := timeouts.ResponseHeader(u.opts.ResponseHeaderTimeout)
	connect := u.opts.DialTimeout
	if timeouts.ConnectMS > 0 {
		connect = timeouts.Connect()
	}

	ctx, cancel := context.WithCancelCause(withConnectTimeout(ctx, connect))
	timer := time.AfterFunc(headerTimeout, func() {
		cancel(&ResponseHeaderTimeoutError{After: headerTimeout})
	})
	return ctx, cancel, timer, headerTimeout
}

// idleTimeout returns the route's idle timeout.
func idleTimeout(timeouts config.Timeouts) time.Duration {
	return timeouts.Idle()
}

var _ http.RoundTripper = (*Upstreams)(nil)
