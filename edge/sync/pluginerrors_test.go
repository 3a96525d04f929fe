package sync

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestPluginErrorCountsSumsPublisherCauses(t *testing.T) {
	registry := prometheus.NewRegistry()
	errors := prometheus.NewCounterVec(prometheus.CounterOpts{Name: pluginErrorsMetric, Help: "test"}, []string{"tenant", "plugin", "version", "cause"})
	registry.MustRegister(errors)
	errors.WithLabelValues("acme", "acme/auth", "1.0.0", "error").Add(3)
	errors.WithLabelValues("beta", "acme/auth", "1.0.0", "timeout").Add(2)
	errors.WithLabelValues("acme", "key-auth", "2.1.0", "error").Inc()
	// Calls that a quarantine skipped or that found no worker are not the
	// version's failures.
	errors.WithLabelValues("acme", "key-auth", "2.1.0", "quarantined").Add(40)
	errors.WithLabelValues("beta", "key-auth", "2.1.0", "capacity").Add(7)
	errors.WithLabelValues("beta", "cors", "1.0.0", "quarantined").Add(9)

	got := PluginErrorCounts(registry)()

	if got["acme/auth@1.0.0"] != 5 {
		t.Errorf("acme/auth@1.0.0 = %d, want 5", got["acme/auth@1.0.0"])
	}
	if got["key-auth@2.1.0"] != 1 {
		t.Errorf("key-auth@2.1.0 = %d, want 1", got["key-auth@2.1.0"])
	}
	if len(got) != 2 {
		t.Errorf("counts = %v, want 2 entries, without cors, which only a quarantine skipped", got)
	}
}
