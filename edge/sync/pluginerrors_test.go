package sync

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestPluginErrorCountsSumsTenantsAndCauses(t *testing.T) {
	registry := prometheus.NewRegistry()
	errors := prometheus.NewCounterVec(prometheus.CounterOpts{Name: pluginErrorsMetric, Help: "test"}, []string{"tenant", "plugin", "version", "cause"})
	registry.MustRegister(errors)
	errors.WithLabelValues("acme", "acme/auth", "1.0.0", "error").Add(3)
	errors.WithLabelValues("beta", "acme/auth", "1.0.0", "timeout").Add(2)
	errors.WithLabelValues("acme", "key-auth", "2.1.0", "error").Inc()

	got := PluginErrorCounts(registry)()

	if got["acme/auth@1.0.0"] != 5 {
		t.Errorf("acme/auth@1.0.0 = %d, want 5", got["acme/auth@1.0.0"])
	}
	if got["key-auth@2.1.0"] != 1 {
		t.Errorf("key-auth@2.1.0 = %d, want 1", got["key-auth@2.1.0"])
	}
	if len(got) != 2 {
		t.Errorf("counts = %v, want 2 entries", got)
	}
}
