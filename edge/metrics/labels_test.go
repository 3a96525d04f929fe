package metrics

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func TestLabelCapsTenants(t *testing.T) {
	m := newWithCaps(newLabelLimiter(2, 3, 2, 3))
	req := httptest.NewRequest("GET", "/", nil)

	for i := range 10 {
		m.ObserveRequest(fmt.Sprintf("tenant-%d", i), "main", req, 200, time.Millisecond)
	}

	// Two admitted tenants and the overflow tenant.
	if got := testutil.CollectAndCount(m.requests); got != 3 {
		t.Errorf("request series = %d, want 3", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues(OtherTenant, OtherRoute, "2xx", "http/1.1")); got != 8 {
		t.Errorf("requests of %q = %v, want 8", OtherTenant, got)
	}
}

func TestLabelCapsRoutes(t *testing.T) {
	m := newWithCaps(newLabelLimiter(2, 3, 2, 3))
	req := httptest.NewRequest("GET", "/", nil)

	for i := range 10 {
		m.ObserveRequest("acme", fmt.Sprintf("route-%d", i), req, 200, time.Millisecond)
	}
	m.ObserveRequest("acme", "", req, 404, time.Millisecond)

	// Three admitted routes, the overflow route and the unmatched one.
	if got := testutil.CollectAndCount(m.requests); got != 5 {
		t.Errorf("request series = %d, want 5", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("acme", OtherRoute, "2xx", "http/1.1")); got != 7 {
		t.Errorf("requests of route %q = %v, want 7", OtherRoute, got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("acme", NoRoute, "4xx", "http/1.1")); got != 1 {
		t.Errorf("requests of route %q = %v, want 1", NoRoute, got)
	}
}

func TestForgetTenantFreesLabels(t *testing.T) {
	m := newWithCaps(newLabelLimiter(1, 1, 1, 1))
	req := httptest.NewRequest("GET", "/", nil)

	m.ObserveRequest("acme", "main", req, 200, time.Millisecond)
	m.ForgetTenant("acme")
	m.ObserveRequest("globex", "orders", req, 200, time.Millisecond)

	if got := testutil.ToFloat64(m.requests.WithLabelValues("globex", "orders", "2xx", "http/1.1")); got != 1 {
		t.Errorf("requests of globex after acme left = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(m.requests); got != 1 {
		t.Errorf("request series = %d, want 1", got)
	}
}

func TestLabelCapsPlugins(t *testing.T) {
	m := newWithCaps(newLabelLimiter(2, 3, 2, 3))

	for i := range 5 {
		for v := range 3 {
			m.ObservePlugin("acme", fmt.Sprintf("plugin-%d", i), fmt.Sprintf("1.0.%d", v), "access", time.Millisecond, "error")
		}
	}

	// Two admitted plugins and the overflow plugin, one phase.
	if got := testutil.CollectAndCount(m.pluginDuration); got != 3 {
		t.Errorf("plugin duration series = %d, want 3", got)
	}
	// Three admitted versions, the overflow version of plugin-1, and the
	// overflow plugin.
	if got := testutil.CollectAndCount(m.pluginErrors); got != 5 {
		t.Errorf("plugin error series = %d, want 5", got)
	}
	if got := testutil.ToFloat64(m.pluginErrors.WithLabelValues("acme", OtherPlugin, OtherPlugin, "error")); got != 9 {
		t.Errorf("errors of %q = %v, want 9", OtherPlugin, got)
	}
}

func TestObservePluginSuccessCountsNoError(t *testing.T) {
	m := New()

	m.ObservePlugin("acme", "auth", "1.0.0", "access", time.Millisecond, "")

	if got := testutil.CollectAndCount(m.pluginDuration); got != 1 {
		t.Errorf("plugin duration series = %d, want 1", got)
	}
	if got := testutil.CollectAndCount(m.pluginErrors); got != 0 {
		t.Errorf("plugin error series = %d, want 0", got)
	}
}

// pluginCalls returns the number of hook calls that the duration series of
// plugin in phase recorded.
func pluginCalls(t *testing.T, m *Metrics, plugin, phase string) uint64 {
	t.Helper()
	var sample dto.Metric
	if err := m.pluginDuration.WithLabelValues(plugin, phase).(prometheus.Histogram).Write(&sample); err != nil {
		t.Fatalf("read duration series of %s in %s: %v", plugin, phase, err)
	}
	return sample.GetHistogram().GetSampleCount()
}

func TestPluginTimerKeepsLabel(t *testing.T) {
	m := newWithCaps(newLabelLimiter(2, 3, 1, 3))

	auth := m.PluginTimer("auth", "access")
	auth.Observe(time.Millisecond)
	m.PluginTimer("auth", "access").Observe(time.Millisecond)
	overflow := m.PluginTimer("cors", "access")
	overflow.Observe(time.Millisecond)
	m.PluginFailed("acme", "auth", "1.0.0", "")

	if got := pluginCalls(t, m, "auth", "access"); got != 2 {
		t.Errorf("calls of auth = %d, want 2", got)
	}
	if got := pluginCalls(t, m, OtherPlugin, "access"); got != 1 {
		t.Errorf("calls of %q = %d, want 1 from the plugin past the cap", OtherPlugin, got)
	}
	if got := testutil.CollectAndCount(m.pluginErrors); got != 0 {
		t.Errorf("plugin error series = %d, want 0 after a call without a cause", got)
	}
}
