package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkPropagation measures the time from a change's API response to
// the moment each of the three edges serves it. Run it with
// -benchtime=200x for 200 changes: each iteration is one change, and the
// delays of all edges go into the p50 and p99.
func BenchmarkPropagation(b *testing.B) {
	c := startCluster(b)
	c.seed(b, "acme", startUpstream(b))
	client := &http.Client{Timeout: 2 * time.Second}
	c.waitServed(b, client, "acme", "/base", time.Now(), 10*time.Second)

	var delays []time.Duration
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("r%d", i)
		c.addRoute(b, "acme", name)
		started := time.Now()
		delays = append(delays, c.waitServed(b, client, "acme", "/"+name, started, 5*time.Second)...)
		if b.Failed() {
			return
		}
	}

	p50, p99 := percentile(delays, 50), percentile(delays, 99)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.Logf("%d changes to 3 edges: p50 %s, p99 %s", len(delays)/len(c.edges), p50, p99)
}
