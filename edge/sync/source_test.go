package sync

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/edge/l2"
	"portcullis.dev/edge/lkg"
	"portcullis.dev/tenants/bundle"
)

// testRedisURL is the machine's Redis in a database that only these tests
// use and flush. PORTCULLIS_TEST_REDIS_SYNC overrides it.
func testRedisURL() string {
	if url := os.Getenv("PORTCULLIS_TEST_REDIS_SYNC"); url != "" {
		return url
	}
	return "redis://127.0.0.1:6379/11"
}

func openL2(t *testing.T) *l2.Cache {
	t.Helper()
	parsed, err := redis.ParseURL(testRedisURL())
	if err != nil {
		t.Fatalf("parse %q: %v", testRedisURL(), err)
	}
	raw := redis.NewClient(parsed)
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := raw.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush redis %s: %v", testRedisURL(), err)
	}

	cache, err := l2.Open(l2.Options{URL: testRedisURL()})
	if err != nil {
		t.Fatalf("l2.Open() error = %v", err)
	}
	t.Cleanup(func() { cache.Close() })
	return cache
}

type sourceParts struct {
	portal *fakePortal
	l2     *l2.Cache
	disk   *lkg.Dir
	source *Source
}

func newSourceParts(t *testing.T) sourceParts {
	t.Helper()
	p := sourceParts{portal: startFakePortal(t), l2: openL2(t), disk: openDisk(t, 0)}
	p.source = NewSource(SourceOptions{Client: p.portal.client(t), L2: p.l2, Disk: p.disk})
	return p
}

func TestSourceReadsL2AtLearnedRevision(t *testing.T) {
	parts := newSourceParts(t)
	ctx := context.Background()
	parts.l2.Put(ctx, sealed(t, "acme", 5))
	parts.source.Learn("acme", 5)

	b, err := parts.source.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}
	if b.Revision != 5 {
		t.Errorf("Bundle() revision = %d, want 5 from the L2", b.Revision)
	}
	if parts.portal.bundleCalls != 0 {
		t.Errorf("portal bundle calls = %d, want 0 on an L2 hit", parts.portal.bundleCalls)
	}
	if _, err := parts.disk.Load("acme"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disk copy after an L2 hit: %v, want none before the edge keeps it", err)
	}
}

func TestSourceFillsL2FromPortal(t *testing.T) {
	parts := newSourceParts(t)
	ctx := context.Background()
	parts.portal.bundles["acme"] = sealed(t, "acme", 3)
	// Without a learned revision the L2 is skipped.
	b, err := parts.source.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}
	if b.Revision != 3 {
		t.Fatalf("Bundle() revision = %d, want 3", b.Revision)
	}

	if _, err := parts.l2.Get(ctx, "acme", 3); err != nil {
		t.Errorf("L2 after a portal fetch: %v, want the bundle", err)
	}
	if _, err := parts.disk.Load("acme"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disk after a portal fetch: %v, want no copy before the edge keeps it", err)
	}
	if got := parts.source.Served()["acme"]; got != 3 {
		t.Errorf("Served()[acme] = %d, want 3", got)
	}
}

// TestSourceKeepsOnlyAcceptedOnDisk fetches revision 3 and then 4 but
// keeps only 3, as an edge does that rejects 4 in its pre-flight: the
// disk then serves 3 while the portal is down.
func TestSourceKeepsOnlyAcceptedOnDisk(t *testing.T) {
	parts := newSourceParts(t)
	ctx := context.Background()

	parts.portal.bundles["acme"] = sealed(t, "acme", 3)
	accepted, err := parts.source.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() revision 3: %v", err)
	}
	parts.source.Keep(accepted)

	parts.portal.bundles["acme"] = sealed(t, "acme", 4)
	if _, err := parts.source.Bundle(ctx, "acme"); err != nil {
		t.Fatalf("Bundle() revision 4: %v", err)
	}

	disk, err := parts.disk.Load("acme")
	if err != nil {
		t.Fatalf("disk copy: %v, want revision 3", err)
	}
	if disk.Revision != 3 {
		t.Errorf("disk copy revision = %d, want the accepted 3", disk.Revision)
	}
}

func TestSourceServesDiskWhilePortalDown(t *testing.T) {
	parts := newSourceParts(t)
	ctx := context.Background()
	if err := parts.disk.Save(sealed(t, "acme", 2)); err != nil {
		t.Fatalf("Save() error = %v", err)
	}
	parts.portal.set(func(p *fakePortal) { p.down = true })

	b, err := parts.source.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() with the portal down error = %v, want the disk copy", err)
	}
	if b.Revision != 2 {
		t.Errorf("Bundle() revision = %d, want 2 from disk", b.Revision)
	}

	if _, err := parts.source.Bundle(ctx, "never-seen"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Bundle() of a tenant not on disk error = %v, want ErrUnavailable", err)
	}
}

func TestSourceForgetsDeletedTenant(t *testing.T) {
	parts := newSourceParts(t)
	ctx := context.Background()
	if err := parts.disk.Save(sealed(t, "acme", 2)); err != nil {
		t.Fatalf("Save() error = %v", err)
	}

	_, err := parts.source.Bundle(ctx, "acme")
	if !errors.Is(err, bundle.ErrTenantNotFound) {
		t.Fatalf("Bundle() error = %v, want ErrTenantNotFound", err)
	}
	if _, err := parts.disk.Load("acme"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disk copy after not found: %v, want it removed", err)
	}
}

func TestSourceRejectsTamperedBundle(t *testing.T) {
	parts := newSourceParts(t)
	tampered := sealed(t, "acme", 3)
	tampered.Revision = 4
	parts.portal.bundles["acme"] = tampered

	_, err := parts.source.Bundle(context.Background(), "acme")
	if err == nil || !strings.Contains(err.Error(), "hash") {
		t.Errorf("Bundle() error = %v, want a hash mismatch", err)
	}
}

func TestSourceStale(t *testing.T) {
	parts := newSourceParts(t)
	parts.portal.bundles["acme"] = sealed(t, "acme", 3)
	parts.portal.bundles["beta"] = sealed(t, "beta", 1)
	for _, tenant := range []string{"acme", "beta"} {
		if _, err := parts.source.Bundle(context.Background(), tenant); err != nil {
			t.Fatalf("Bundle(%q) error = %v", tenant, err)
		}
	}
	parts.source.Learn("acme", 5)
	parts.source.Learn("beta", 1)

	stale := parts.source.Stale()
	if len(stale) != 1 || stale["acme"] != 5 {
		t.Errorf("Stale() = %v, want map[acme:5]", stale)
	}
}
