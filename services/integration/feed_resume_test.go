package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// appliedPattern matches the edge's debug log line for one applied feed
// event of tenant acme.
var appliedPattern = regexp.MustCompile(`msg="change event applied" .*tenant=acme revision=(\d+) position=(\d+)`)

// TestFeedResumesAfterGap kills the portal, writes changes straight to its
// database while it is down, restarts it and makes more changes. Each
// edge must apply every revision of the tenant exactly once and serve the
// last one.
func TestFeedResumesAfterGap(t *testing.T) {
	c := startClusterWith(t, "--log-level", "debug")
	upstream := startUpstream(t)
	c.seed(t, "acme", upstream)
	client := &http.Client{Timeout: 2 * time.Second}
	c.waitServed(t, client, "acme", "/base", time.Now(), 10*time.Second)
	c.waitCaughtUp(t, 10*time.Second)

	c.portal.kill()
	st := openStore(t, c.portal)
	ctx := context.Background()
	var last int64
	for i := range 20 {
		route := config.Route{Name: fmt.Sprintf("gap%d", i), Paths: []string{fmt.Sprintf("/gap%d", i)}, Methods: []string{"GET"}, Upstream: "backend"}
		if _, err := st.CreateRoute(ctx, "acme", route); err != nil {
			t.Fatalf("create route %s while the portal is down: %v", route.Name, err)
		}
	}
	c.portal.restart(t)

	for i := range 5 {
		c.addRoute(t, "acme", fmt.Sprintf("after%d", i))
	}
	tenant, err := st.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatalf("get tenant: %v", err)
	}
	last = tenant.Revision
	c.waitServed(t, client, "acme", "/gap19", time.Now(), 10*time.Second)
	c.waitServed(t, client, "acme", "/after4", time.Now(), 10*time.Second)
	c.waitCaughtUp(t, 10*time.Second)

	for _, e := range c.edges {
		checkAppliedOnce(t, e, last)
	}
}

// checkAppliedOnce reads the edge's log and checks that the revisions of
// acme it applied run without a gap up to last, each exactly once, and
// that the gap's 25 changes are among them.
func checkAppliedOnce(t *testing.T, e *edgeProc, last int64) {
	t.Helper()
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		t.Fatalf("read log of %s: %v", e.name, err)
	}

	counts := map[int64]int{}
	first := int64(-1)
	for _, match := range appliedPattern.FindAllStringSubmatch(string(data), -1) {
		revision, _ := strconv.ParseInt(match[1], 10, 64)
		counts[revision]++
		if first < 0 {
			first = revision
		}
	}
	if first < 0 || first > last-25 {
		t.Fatalf("edge %s: first applied revision %d, want one at or below %d (before the gap)", e.name, first, last-25)
	}

	for revision := first; revision <= last; revision++ {
		if counts[revision] != 1 {
			t.Errorf("edge %s: revision %d applied %d times, want exactly once", e.name, revision, counts[revision])
		}
	}
	if len(counts) != int(last-first+1) {
		t.Errorf("edge %s: applied %d distinct revisions, want %d (from %d to %d)", e.name, len(counts), last-first+1, first, last)
	}
	applied := e.metrics(t)["portcullis_edge_feed_events_applied_total"]
	if int64(applied) != last-first+1 {
		t.Errorf("edge %s: portcullis_edge_feed_events_applied_total = %v, want %d", e.name, applied, last-first+1)
	}
}
