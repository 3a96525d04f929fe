package edge

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/metrics"
)

// pluginMetric returns the sample count of a histogram, or the value of a
// counter, of the series in family that has the given labels, and zero
// when there is none.
func pluginMetric(t *testing.T, m *metrics.Metrics, family string, labels map[string]string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, series := range f.Metric {
			matches := true
			for name, value := range labels {
				matches = matches && labelValue(series, name) == value
			}
			switch {
			case !matches:
			case series.Histogram != nil:
				return float64(series.Histogram.GetSampleCount())
			default:
				return series.Counter.GetValue()
			}
		}
	}
	return 0
}

func TestHookCalledKeepsTimerInMemo(t *testing.T) {
	m := metrics.New()
	o := &observer{metrics: m}
	memo := &atomic.Value{}
	call := chain.HookCall{
		Tenant:  "acme",
		Step:    chain.Step{Binding: "b-auth", Plugin: "auth", Version: "1.0.0"},
		Phase:   "access",
		Elapsed: time.Millisecond,
		Memo:    memo,
	}

	o.hookCalled(context.Background(), call)
	if _, ok := memo.Load().(*metrics.PluginTimer); !ok {
		t.Fatalf("memo holds %T after the first call, want *metrics.PluginTimer", memo.Load())
	}
	failed := call
	failed.Err, failed.Cause = errors.New("backend down"), "error"
	o.hookCalled(context.Background(), failed)
	withoutMemo := call
	withoutMemo.Memo = nil
	o.hookCalled(context.Background(), withoutMemo)

	duration := map[string]string{"plugin": "auth", "phase": "access"}
	if got := pluginMetric(t, m, "portcullis_edge_plugin_duration_seconds", duration); got != 3 {
		t.Errorf("hook calls recorded = %v, want 3", got)
	}
	failures := map[string]string{"tenant": "acme", "plugin": "auth", "version": "1.0.0", "cause": "error"}
	if got := pluginMetric(t, m, "portcullis_edge_plugin_errors_total", failures); got != 1 {
		t.Errorf("hook errors counted = %v, want 1", got)
	}
}
