package integration

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cluster is one portal and three edges: a-1 and a-2 in region a sharing a
// Redis database, b-1 in region b with another.
type cluster struct {
	portal *portal
	edges  []*edgeProc
	token  string
}

func startCluster(t testing.TB) *cluster {
	t.Helper()
	return startClusterWith(t)
}

// startClusterWith starts the cluster with extra flags on every edge.
func startClusterWith(t testing.TB, extra ...string) *cluster {
	t.Helper()
	c := &cluster{portal: startPortal(t)}

	var answer struct {
		Token string `json:"token"`
	}
	c.portal.call(t, http.MethodPost, "/edge-tokens", nil, &answer)
	c.token = answer.Token

	regionA := flushRedis(t, 13)
	regionB := flushRedis(t, 14)
	c.edges = []*edgeProc{
		startEdge(t, c.portal, c.token, "a-1", "a", regionA, t.TempDir(), extra...),
		startEdge(t, c.portal, c.token, "a-2", "a", regionA, t.TempDir(), extra...),
		startEdge(t, c.portal, c.token, "b-1", "b", regionB, t.TempDir(), extra...),
	}
	return c
}

// seed creates the tenant with an upstream and a route "/base".
func (c *cluster) seed(t testing.TB, tenant, upstream string) {
	t.Helper()
	c.portal.call(t, http.MethodPost, "/tenants", map[string]string{"slug": tenant, "name": tenant}, nil)
	c.portal.call(t, http.MethodPost, "/tenants/"+tenant+"/upstreams",
		map[string]any{"name": "backend", "targets": []map[string]any{{"url": upstream, "weight": 1}}}, nil)
	c.addRoute(t, tenant, "base")
}

func (c *cluster) addRoute(t testing.TB, tenant, name string) {
	t.Helper()
	c.portal.call(t, http.MethodPost, "/tenants/"+tenant+"/routes",
		map[string]any{"name": name, "paths": []string{"/" + name}, "methods": []string{"GET"}, "upstream": "backend"}, nil)
}

// waitServed waits until every edge returns 200 for the path and returns
// the delay of each edge, measured from since.
func (c *cluster) waitServed(t testing.TB, client *http.Client, tenant, path string, since time.Time, timeout time.Duration) []time.Duration {
	t.Helper()
	delays := make([]time.Duration, len(c.edges))
	var wg sync.WaitGroup
	for i, e := range c.edges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := since.Add(timeout)
			for time.Now().Before(deadline) {
				if e.get(client, tenant, path) == http.StatusOK {
					delays[i] = time.Since(since)
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
			t.Errorf("edge %s: GET %s for tenant %q did not return 200 within %s", e.name, path, tenant, timeout)
		}()
	}
	wg.Wait()
	return delays
}

// TestChangeReachesAllEdges makes changes through the API and records how
// long each edge takes to serve each one.
func TestChangeReachesAllEdges(t *testing.T) {
	changes := 200
	if testing.Short() {
		changes = 20
	}
	c := startCluster(t)
	c.seed(t, "acme", startUpstream(t))
	client := &http.Client{Timeout: 2 * time.Second}
	c.waitServed(t, client, "acme", "/base", time.Now(), 10*time.Second)

	var delays []time.Duration
	for i := range changes {
		name := fmt.Sprintf("r%d", i)
		started := time.Now()
		c.addRoute(t, "acme", name)
		delays = append(delays, c.waitServed(t, client, "acme", "/"+name, started, 5*time.Second)...)
		if t.Failed() {
			return
		}
	}

	p50, p99 := percentile(delays, 50), percentile(delays, 99)
	t.Logf("change to all 3 edges, %d changes: p50 %s, p99 %s", changes, p50, p99)
	if p99 > 500*time.Millisecond {
		t.Errorf("p99 delay = %s, want under 500ms", p99)
	}
}

// TestPortalOutage kills the portal under load: every request still
// succeeds, and a change made after the portal returns reaches every edge
// without an edge restart. An edge restarted during the outage serves from
// its disk copy.
func TestPortalOutage(t *testing.T) {
	c := startCluster(t)
	c.seed(t, "acme", startUpstream(t))
	client := &http.Client{Timeout: 2 * time.Second}
	c.waitServed(t, client, "acme", "/base", time.Now(), 10*time.Second)

	var failures, requests atomic.Int64
	stop := make(chan struct{})
	var load sync.WaitGroup
	// The load skips the edge that the test restarts, since requests to a
	// killed process fail by design; that edge is checked after its restart.
	for _, e := range c.edges[:2] {
		load.Add(1)
		go func() {
			defer load.Done()
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				select {
				case <-stop:
					return
				default:
				}
				requests.Add(1)
				if status := e.get(client, "acme", "/base"); status != http.StatusOK {
					failures.Add(1)
					t.Errorf("edge %s during the outage: status %d, want 200", e.name, status)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}

	c.portal.kill()
	time.Sleep(time.Second)

	restarted := c.edges[2]
	restarted.kill()
	restarted.restart(t)
	for range 50 {
		requests.Add(1)
		if status := restarted.get(client, "acme", "/base"); status != http.StatusOK {
			failures.Add(1)
			t.Errorf("edge %s restarted during the outage: status %d, want 200 from its disk copy", restarted.name, status)
		}
		time.Sleep(10 * time.Millisecond)
	}

	c.portal.restart(t)
	close(stop)
	load.Wait()
	t.Logf("requests during the outage: %d, failed: %d", requests.Load(), failures.Load())

	started := time.Now()
	c.addRoute(t, "acme", "after")
	delays := c.waitServed(t, client, "acme", "/after", started, 10*time.Second)
	t.Logf("first change after the outage reached the edges after %v", delays)
}

func percentile(values []time.Duration, p int) time.Duration {
	sorted := append([]time.Duration(nil), values...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	index := (len(sorted)*p + 99) / 100
	return sorted[min(max(index-1, 0), len(sorted)-1)]
}
