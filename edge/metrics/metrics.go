// Package metrics defines the edge's Prometheus metrics.
//
// Label values stay bounded. The tenant label carries the slug only for
// tenants whose runtime the edge has loaded, NoTenant for every other
// request (unknown hosts included), and OtherTenant past MaxTenants. The
// route label carries only route names of a loaded runtime, never the
// request path, NoRoute when no route matched, and OtherRoute past
// MaxRoutes. Series of a tenant are deleted, and its label freed, when its
// runtime leaves the L1 cache.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NoTenant is the tenant label of requests that no loaded tenant served.
// Slugs cannot contain "_", so it never names a real tenant.
const NoTenant = "_none"

// PluginBuckets are the bucket bounds in seconds of the plugin hook
// duration histogram, from 10 µs to 250 ms.
var PluginBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25}

// Metrics holds the edge's collectors in a registry of its own. A nil
// *Metrics is valid and records nothing.
type Metrics struct {
	registry         *prometheus.Registry
	labels           *labelLimiter
	requests         *prometheus.CounterVec
	duration         *prometheus.HistogramVec
	upstreamDuration *prometheus.HistogramVec
	pluginDuration   *prometheus.HistogramVec
	// pluginTimers caches the pluginDuration series of each plugin and
	// phase (a pluginPhase key), because a plugin keeps its label once
	// admitted and hook calls are the hottest path that records metrics.
	// It is a sync.Map because every hook call reads it from every CPU and
	// it is written once per plugin and phase.
	pluginTimers sync.Map // pluginPhase -> *PluginTimer
	pluginErrors *prometheus.CounterVec
	tenantLoads  *prometheus.CounterVec
	l1Hits       prometheus.Counter
	l1Misses     prometheus.Counter
}

// New returns Metrics registered with a new registry, together with the Go
// runtime and process collectors. The label caps are MaxTenants, MaxRoutes,
// MaxPlugins and MaxPluginVersions.
func New() *Metrics {
	return newWithCaps(newLabelLimiter(MaxTenants, MaxRoutes, MaxPlugins, MaxPluginVersions))
}

func newWithCaps(labels *labelLimiter) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		labels:   labels,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_edge_requests_total",
			Help: "Requests served, by tenant, route, status class (2xx to 5xx) and protocol (http/1.1, h2, h3).",
		}, []string{"tenant", "route", "code", "protocol"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portcullis_edge_request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its response body, by tenant, route, status class and protocol.",
			Buckets: prometheus.DefBuckets,
		}, []string{"tenant", "route", "code", "protocol"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portcullis_edge_upstream_duration_seconds",
			Help:    "Time from sending the request upstream to the upstream's response header, or to the failure of an upstream that did not respond, by tenant, route and status class.",
			Buckets: prometheus.DefBuckets,
		}, []string{"tenant", "route", "code"}),
		pluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portcullis_edge_plugin_duration_seconds",
			Help:    "Time of one plugin hook call, by plugin and phase.",
			Buckets: PluginBuckets,
		}, []string{"plugin", "phase"}),
		pluginErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_edge_plugin_errors_total",
			Help: "Plugin hook calls that failed, fail-open ones included, by tenant, plugin, version and cause (timeout, quarantined, error).",
		}, []string{"tenant", "plugin", "version", "cause"}),
		tenantLoads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_edge_tenant_loads_total",
			Help: "Fetches and compiles of tenant bundles, by kind (load on a miss, refresh after a change) and result (ok, not_found, error).",
		}, []string{"kind", "result"}),
		l1Hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_edge_l1_hits_total",
			Help: "Requests whose tenant runtime was in the L1 cache.",
		}),
		l1Misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_edge_l1_misses_total",
			Help: "Requests whose tenant runtime was not in the L1 cache.",
		}),
	}

	m.registry.MustRegister(
		m.requests, m.duration, m.upstreamDuration, m.pluginDuration, m.pluginErrors, m.tenantLoads, m.l1Hits, m.l1Misses,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler returns the handler for the Prometheus text exposition of m.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Registry returns the registry that holds m's collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	return m.registry
}

// ObserveRequest counts one finished request. Pass NoTenant when no loaded
// tenant served it, and an empty route when no route matched.
func (m *Metrics) ObserveRequest(tenant, route string, r *http.Request, status int, elapsed time.Duration) {
	if m == nil {
		return
	}

	tenant, route = m.labels.tenantRoute(tenant, route)
	code, protocol := StatusClass(status), Protocol(r)
	m.requests.WithLabelValues(tenant, route, code, protocol).Inc()
	m.duration.WithLabelValues(tenant, route, code, protocol).Observe(elapsed.Seconds())
}

// ObserveUpstream records the time to an upstream's response header, or to
// the failure of an upstream that did not respond. status is the status
// that the client got.
func (m *Metrics) ObserveUpstream(tenant, route string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}

	tenant, route = m.labels.tenantRoute(tenant, route)
	m.upstreamDuration.WithLabelValues(tenant, route, StatusClass(status)).Observe(elapsed.Seconds())
}

// ObservePlugin records one plugin hook call. cause is empty for a call
// that succeeded, otherwise "timeout", "quarantined", "capacity" or
// "error".
func (m *Metrics) ObservePlugin(tenant, plugin, version, phase string, elapsed time.Duration, cause string) {
	if m == nil {
		return
	}

	m.PluginTimer(plugin, phase).Observe(elapsed)
	m.PluginFailed(tenant, plugin, version, cause)
}

// PluginFailed counts a failed plugin hook call by cause: "timeout",
// "quarantined", "capacity" or "error". The empty cause of a call that succeeded
// counts nothing.
func (m *Metrics) PluginFailed(tenant, plugin, version, cause string) {
	if m == nil || cause == "" {
		return
	}

	plugin, version = m.labels.pluginVersion(plugin, version)
	m.pluginErrors.WithLabelValues(m.labels.tenant(tenant), plugin, version, cause).Inc()
}

// TenantLoad counts one fetch and compile of a bundle. kind is "load" or
// "refresh", result is "ok", "not_found" or "error".
func (m *Metrics) TenantLoad(kind, result string) {
	if m == nil {
		return
	}
	m.tenantLoads.WithLabelValues(kind, result).Inc()
}

// L1Hit counts a request whose runtime was cached.
func (m *Metrics) L1Hit() {
	if m != nil {
		m.l1Hits.Inc()
	}
}

// L1Miss counts a request whose runtime was not cached.
func (m *Metrics) L1Miss() {
	if m != nil {
		m.l1Misses.Inc()
	}
}

// ForgetTenant deletes every series labelled with tenant and frees its
// tenant and route labels for other tenants.
func (m *Metrics) ForgetTenant(tenant string) {
	if m == nil {
		return
	}

	labels := prometheus.Labels{"tenant": tenant}
	m.requests.DeletePartialMatch(labels)
	m.duration.DeletePartialMatch(labels)
	m.upstreamDuration.DeletePartialMatch(labels)
	m.pluginErrors.DeletePartialMatch(labels)
	m.labels.forgetTenant(tenant)
}

// StatusClass returns "2xx" for 200 to 299 and so on. The 499 of a client
// that went away counts as "4xx".
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Protocol returns the label of the request's protocol: "h3", "h2" (with
// h2c) or "http/1.1" (with HTTP/1.0).
func Protocol(r *http.Request) string {
	switch r.ProtoMajor {
	case 3:
		return "h3"
	case 2:
		return "h2"
	default:
		return "http/1.1"
	}
}

// L1Stats describe the L1 cache of tenant runtimes at one moment.
type L1Stats struct {
	// Entries is the number of tenants held, those remembered as not
	// found included.
	Entries int64
	// Cost is the sum of the entries' costs in bytes.
	Cost int64
	// MaxCost is the budget in bytes.
	MaxCost int64
	// Evictions counts entries that left because of the budget or a TTL.
	Evictions int64
}

// WatchL1 exports the L1 entry count, cost, budget and evictions, reading
// stats at each scrape. Call it once per Metrics.
func (m *Metrics) WatchL1(stats func() L1Stats) {
	if m == nil {
		return
	}

	gauge := func(name, help string, value func(L1Stats) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			return float64(value(stats()))
		})
	}
	evictions := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "portcullis_edge_l1_evictions_total",
		Help: "Tenant runtimes that left the L1 cache because of its budget or, for unknown tenants, their TTL.",
	}, func() float64 {
		return float64(stats().Evictions)
	})

	m.registry.MustRegister(
		gauge("portcullis_edge_l1_entries", "Tenants held in the L1 cache, unknown tenants remembered as not found included.",
			func(s L1Stats) int64 { return s.Entries }),
		gauge("portcullis_edge_l1_cost_bytes", "Sum of the L1 entries' costs: the bundle JSON size of each runtime.",
			func(s L1Stats) int64 { return s.Cost }),
		gauge("portcullis_edge_l1_max_cost_bytes", "L1 budget in bytes (--cache-bytes).",
			func(s L1Stats) int64 { return s.MaxCost }),
		evictions,
	)
}

// pluginPhase keys the cached duration series of one plugin and phase.
type pluginPhase struct {
	plugin, phase string
}

// PluginTimer is the hook duration series of one plugin in one phase. A
// caller that records many calls of one plugin and phase may keep it, since
// a plugin keeps its label for as long as the Metrics exist. A nil
// *PluginTimer records nothing.
type PluginTimer struct {
	series prometheus.Observer
}

// Observe records the duration of one hook call.
func (t *PluginTimer) Observe(elapsed time.Duration) {
	if t != nil {
		t.series.Observe(elapsed.Seconds())
	}
}

// PluginTimer returns the duration series of plugin in phase, resolving its
// labels on first use only. Past MaxPlugins, new plugins share the
// OtherPlugin series.
func (m *Metrics) PluginTimer(plugin, phase string) *PluginTimer {
	if m == nil {
		return nil
	}

	key := pluginPhase{plugin: plugin, phase: phase}
	if timer, ok := m.pluginTimers.Load(key); ok {
		return timer.(*PluginTimer)
	}

	label := m.labels.plugin(plugin)
	timer := &PluginTimer{series: m.pluginDuration.WithLabelValues(label, phase)}
	if label == plugin {
		// Past the cap, plugins share the overflow label and are not
		// cached, so the cache holds at most MaxPlugins plugins.
		m.pluginTimers.Store(key, timer)
	}
	return timer
}
