package sync

import (
	"github.com/prometheus/client_golang/prometheus"

	"portcullis.dev/tenants/bundle"
)

// pluginErrorsMetric is the edge's counter of failed hook calls, labelled
// by tenant, plugin, version and cause.
const pluginErrorsMetric = "portcullis_edge_plugin_errors_total"

// maxReportedPluginVersions caps the plugin versions in one heartbeat, as
// the portal accepts at most 1000.
const maxReportedPluginVersions = 1000

// publisherCauses are the causes of failed hook calls that count against a
// plugin version in the portal's statistics: the hook raised an error,
// left an invalid result or passed its deadline. A call skipped by a
// quarantine did not run, and one without a worker (capacity) failed for
// lack of room, which the version's code did not cause.
var publisherCauses = map[string]bool{"error": true, "timeout": true}

// PluginErrorCounts returns a function for AgentOptions.PluginErrors that
// sums the edge's failed hook calls per plugin version over tenants and
// the causes in publisherCauses, from the metrics in gatherer. Versions
// that the metrics fold into an overflow label are reported under that
// label.
func PluginErrorCounts(gatherer prometheus.Gatherer) func() map[string]int64 {
	return func() map[string]int64 {
		families, err := gatherer.Gather()
		if err != nil {
			return nil
		}
		counts := map[string]int64{}
		for _, family := range families {
			if family.GetName() != pluginErrorsMetric {
				continue
			}
			for _, metric := range family.GetMetric() {
				var plugin, version, cause string
				for _, label := range metric.GetLabel() {
					switch label.GetName() {
					case "plugin":
						plugin = label.GetValue()
					case "version":
						version = label.GetValue()
					case "cause":
						cause = label.GetValue()
					}
				}
				key := bundle.Key(plugin, version)
				if plugin == "" || version == "" || !publisherCauses[cause] {
					continue
				}
				if counts[key] == 0 && len(counts) >= maxReportedPluginVersions {
					continue
				}
				counts[key] += int64(metric.GetCounter().GetValue())
			}
		}
		return counts
	}
}
