package integration

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const l2HitMetric = `portcullis_edge_bundle_fetches_total{layer="l2",result="hit"}`

// TestRedisOutage kills the region's Redis (a redis-server of the test's
// own) while two edges serve under load and changes flow: no request fails
// and changes keep arriving through the portal. After Redis restarts the
// edges write to and read from it again.
func TestRedisOutage(t *testing.T) {
	redis := startRedis(t)
	p := startPortal(t)
	var answer struct {
		Token string `json:"token"`
	}
	p.call(t, http.MethodPost, "/edge-tokens", nil, &answer)
	c := &cluster{portal: p, token: answer.Token}
	c.edges = []*edgeProc{
		startEdge(t, p, c.token, "a-1", "a", redis.url(0), t.TempDir()),
		startEdge(t, p, c.token, "a-2", "a", redis.url(0), t.TempDir()),
	}
	upstream := startUpstream(t)
	client := &http.Client{Timeout: 2 * time.Second}
	c.seed(t, "acme", upstream)
	c.waitServed(t, client, "acme", "/base", time.Now(), 10*time.Second)
	checkL2Shared(t, c, client, redis, "before", upstream)

	var requests, failures atomic.Int64
	stop := make(chan struct{})
	var load sync.WaitGroup
	for _, e := range c.edges {
		load.Go(func() {
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
					t.Errorf("edge %s during the Redis outage: status %d, want 200", e.name, status)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}

	time.Sleep(300 * time.Millisecond)
	redis.kill()
	// Changes during the outage make both edges refresh acme, and a new
	// tenant makes them load one: each misses Redis and uses the portal.
	for i := range 10 {
		started := time.Now()
		c.addRoute(t, "acme", fmt.Sprintf("outage%d", i))
		c.waitServed(t, client, "acme", fmt.Sprintf("/outage%d", i), started, 5*time.Second)
	}
	c.seed(t, "during", upstream)
	c.waitServed(t, client, "during", "/base", time.Now(), 5*time.Second)

	close(stop)
	load.Wait()
	t.Logf("requests during the Redis outage: %d, failed: %d", requests.Load(), failures.Load())
	if requests.Load() < 100 {
		t.Errorf("requests during the outage = %d, want at least 100 for a meaningful load", requests.Load())
	}
	for _, e := range c.edges {
		if portal := e.metrics(t)[`portcullis_edge_bundle_fetches_total{layer="portal",result="hit"}`]; portal < 11 {
			t.Errorf("edge %s portal fetches = %v, want at least 11 during the outage", e.name, portal)
		}
	}

	redis.start()
	// Each edge skips Redis for l2.DefaultPause (2 s) after its last failure.
	time.Sleep(2500 * time.Millisecond)
	checkL2Shared(t, c, client, redis, "after", upstream)
}

// checkL2Shared creates a tenant, loads it on the first edge (which puts
// the bundle in Redis) and then on the second, which must read it from
// Redis at the revision the feed announced.
func checkL2Shared(t *testing.T, c *cluster, client *http.Client, redis *redisServer, when, upstream string) {
	t.Helper()
	tenant := "shared-" + when
	c.seed(t, tenant, upstream)
	c.waitCaughtUp(t, 10*time.Second)

	first, second := c.edges[0], c.edges[1]
	waitStatus(t, first, client, tenant, "/base", http.StatusOK)
	hitsBefore := second.metrics(t)[l2HitMetric]
	waitStatus(t, second, client, tenant, "/base", http.StatusOK)

	if hits := second.metrics(t)[l2HitMetric]; hits <= hitsBefore {
		t.Errorf("%s the outage: edge %s L2 hits = %v after loading %q, want more than %v", when, second.name, hits, tenant, hitsBefore)
	}
	// The restarted server starts empty, so a key there was written after
	// the outage.
	reply, err := redis.command("DBSIZE")
	if err != nil {
		t.Fatalf("DBSIZE: %v", err)
	}
	if keys, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(reply, ":"))); keys < 1 {
		t.Errorf("%s the outage: Redis holds %q keys, want at least 1 bundle", when, strings.TrimSpace(reply))
	}
}

// waitStatus retries the request for up to 5 s until it returns want.
func waitStatus(t *testing.T, e *edgeProc, client *http.Client, tenant, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	status := 0
	for time.Now().Before(deadline) {
		if status = e.get(client, tenant, path); status == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("edge %s: GET %s for tenant %q = %d, want %d", e.name, path, tenant, status, want)
}
