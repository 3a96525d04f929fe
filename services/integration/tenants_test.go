package integration

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

const (
	// tenantCount is the number of tenants on the portal.
	tenantCount = 10_000
	// seenCount is the number of them that the edges receive requests for.
	seenCount = 1_000
	// memoryOverhead is the resident memory that an edge may use beyond its
	// L1 budget: the Go runtime, the listeners, the HTTP/3 stack and the
	// compiled runtimes' memory beyond the bundle JSON size that L1
	// charges. TestManyTenantsMemory measured an RSS of 32 MiB idle and
	// 39 MiB with 1,000 small tenants (294 KiB of L1 cost) on Linux amd64
	// with Go 1.26, so this leaves head room.
	memoryOverhead = 64 << 20
)

// createTenants creates count tenants through the store with 8 writers.
// Tenant i gets an upstream and a route "/" when i < withRoutes.
func createTenants(t *testing.T, st *store.Store, upstream string, count, withRoutes int) {
	t.Helper()
	ctx := context.Background()
	next := make(chan int)
	errs := make(chan error, 8)
	var writers sync.WaitGroup
	for range 8 {
		writers.Go(func() {
			for i := range next {
				if err := createTenant(ctx, st, i, upstream, i < withRoutes); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range count {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			writers.Wait()
			t.Fatal(err)
		}
	}
	close(next)
	writers.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

func tenantSlug(i int) string { return fmt.Sprintf("t%05d", i) }

func createTenant(ctx context.Context, st *store.Store, i int, upstream string, routed bool) error {
	slug := tenantSlug(i)
	if _, err := st.CreateTenant(ctx, config.Tenant{Slug: slug, Name: slug}); err != nil {
		return fmt.Errorf("create tenant %q: %w", slug, err)
	}
	if !routed {
		return nil
	}

	if _, err := st.CreateUpstream(ctx, slug, config.Upstream{Name: "backend", Targets: []config.Target{{URL: upstream, Weight: 1}}}); err != nil {
		return fmt.Errorf("create upstream of %q: %w", slug, err)
	}
	if _, err := st.CreateRoute(ctx, slug, config.Route{Name: "all", Paths: []string{"/"}, Methods: []string{"GET"}, Upstream: "backend"}); err != nil {
		return fmt.Errorf("create route of %q: %w", slug, err)
	}
	return nil
}

// TestManyTenantsMemory creates 10,000 tenants and sends requests for
// 1,000 of them to two edges: "big" with the default 64 MiB L1 budget
// and "small" with a budget too small for all of them. Each edge must hold
// only tenants it served, stay within its budget, and report to the portal
// only the tenants its L1 holds. The big edge's resident memory must stay
// below its budget plus memoryOverhead.
func TestManyTenantsMemory(t *testing.T) {
	p := startPortal(t)
	var answer struct {
		Token string `json:"token"`
	}
	p.call(t, http.MethodPost, "/edge-tokens", nil, &answer)
	upstream := startUpstream(t)

	started := time.Now()
	createTenants(t, openStore(t, p), upstream, tenantCount, seenCount)
	t.Logf("created %d tenants (%d with a route) in %s", tenantCount, seenCount, time.Since(started).Round(time.Millisecond))

	const smallBudget = 200 << 10
	big := startEdge(t, p, answer.Token, "big", "a", "", t.TempDir())
	small := startEdge(t, p, answer.Token, "small", "a", "", t.TempDir(), "--cache-bytes", fmt.Sprint(smallBudget))
	idleRSS := big.rssBytes(t)

	client := &http.Client{Timeout: 5 * time.Second}
	for i := range seenCount {
		for _, e := range []*edgeProc{big, small} {
			if status := e.get(client, tenantSlug(i), "/"); status != http.StatusOK {
				t.Fatalf("edge %s: GET / for tenant %s = %d, want 200", e.name, tenantSlug(i), status)
			}
		}
	}
	// Let ristretto apply its buffered sets and the heartbeats report.
	time.Sleep(2500 * time.Millisecond)

	bigStats := big.metrics(t)
	if entries := bigStats["portcullis_edge_l1_entries"]; entries != seenCount {
		t.Errorf("edge big: L1 entries = %v, want %d, the tenants it served", entries, seenCount)
	}
	if evictions := bigStats["portcullis_edge_l1_evictions_total"]; evictions != 0 {
		t.Errorf("edge big: L1 evictions = %v, want 0 within the 64 MiB budget", evictions)
	}
	cost := bigStats["portcullis_edge_l1_cost_bytes"]
	rss := big.rssBytes(t)
	t.Logf("edge big: %v entries, L1 cost %.0f KiB, RSS idle %d MiB, after %d tenants %d MiB",
		bigStats["portcullis_edge_l1_entries"], cost/1024, idleRSS>>20, seenCount, rss>>20)
	if budget := bigStats["portcullis_edge_l1_max_cost_bytes"]; rss > int64(budget)+memoryOverhead {
		t.Errorf("edge big: RSS = %d MiB, want at most the %v MiB budget plus %d MiB", rss>>20, budget/(1<<20), memoryOverhead>>20)
	}

	smallStats := small.metrics(t)
	entries := smallStats["portcullis_edge_l1_entries"]
	t.Logf("edge small: %v entries, L1 cost %.0f KiB of %d KiB, %v evictions",
		entries, smallStats["portcullis_edge_l1_cost_bytes"]/1024, smallBudget>>10, smallStats["portcullis_edge_l1_evictions_total"])
	if smallStats["portcullis_edge_l1_cost_bytes"] > smallBudget {
		t.Errorf("edge small: L1 cost = %v, want at most the budget %d", smallStats["portcullis_edge_l1_cost_bytes"], smallBudget)
	}
	if entries >= seenCount || smallStats["portcullis_edge_l1_evictions_total"] == 0 {
		t.Errorf("edge small: %v entries and %v evictions, want fewer than %d entries and some evictions",
			entries, smallStats["portcullis_edge_l1_evictions_total"], seenCount)
	}

	_, nodes := p.edges(t)
	if got := len(nodes["big"].Revisions); got != seenCount {
		t.Errorf("edge big reports %d tenants to the portal, want %d", got, seenCount)
	}
	// The small edge reports what L1 holds, not every tenant it ever
	// fetched. Ristretto may apply a set between the scrape and the
	// heartbeat, so allow a small difference.
	if got := len(nodes["small"].Revisions); got >= seenCount || float64(got) > entries+10 || float64(got) < entries-10 {
		t.Errorf("edge small reports %d tenants to the portal, want about its %v L1 entries", got, entries)
	}
}
