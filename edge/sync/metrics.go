package sync

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the sync collectors. A nil *Metrics records nothing.
type Metrics struct {
	fetches     *prometheus.CounterVec
	fetchTime   *prometheus.HistogramVec
	lag         prometheus.Histogram
	position    prometheus.Gauge
	head        prometheus.Gauge
	feedHealthy prometheus.Gauge
	events      prometheus.Counter
}

// NewMetrics creates the sync collectors and registers them with registry.
func NewMetrics(registry prometheus.Registerer) *Metrics {
	m := &Metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_edge_bundle_fetches_total",
			Help: "Bundle lookups below L1, by layer (l2, portal, disk) and result (hit, miss, error).",
		}, []string{"layer", "result"}),
		fetchTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portcullis_edge_bundle_fetch_seconds",
			Help:    "Time of one bundle lookup below L1, by layer (l2, portal, disk).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"layer"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "portcullis_edge_feed_lag_seconds",
			Help:    "Time from a change's commit on the portal to the edge applying its feed event.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		position: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_edge_feed_position",
			Help: "Last change feed position the edge applied.",
		}),
		head: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_edge_feed_head",
			Help: "Change feed head that the portal reported at the last heartbeat.",
		}),
		feedHealthy: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_edge_feed_connected",
			Help: "1 while the edge follows the portal's change feed, 0 while it cannot reach it.",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_edge_feed_events_applied_total",
			Help: "Change feed events applied. An event replayed after a reconnect is skipped and not counted.",
		}),
	}
	registry.MustRegister(m.fetches, m.fetchTime, m.lag, m.position, m.head, m.feedHealthy, m.events)
	return m
}

func (m *Metrics) fetch(layer, result string, started time.Time) {
	if m == nil {
		return
	}
	m.fetches.WithLabelValues(layer, result).Inc()
	m.fetchTime.WithLabelValues(layer).Observe(time.Since(started).Seconds())
}

func (m *Metrics) applied(event Event) {
	if m == nil {
		return
	}
	m.position.Set(float64(event.Position))
	m.events.Inc()
	if !event.Time.IsZero() {
		m.lag.Observe(max(time.Since(event.Time).Seconds(), 0))
	}
}

func (m *Metrics) setHead(head int64) {
	if m != nil {
		m.head.Set(float64(head))
	}
}

func (m *Metrics) setConnected(connected bool) {
	if m == nil {
		return
	}
	if connected {
		m.feedHealthy.Set(1)
	} else {
		m.feedHealthy.Set(0)
	}
}
