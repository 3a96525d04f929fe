package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"portcullis.dev/portal/store/pgtest"
	"portcullis.dev/tenants/config"
)

// dialects opens a fresh store on each database that the portal supports.
var dialects = []struct {
	name string
	open func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "portal.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
}

// migrationVersions returns the version numbers of a dialect's migration
// files, in order.
func migrationVersions(t *testing.T, dialect string) []int64 {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", dialect, "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("list %s migrations: %v (%d files)", dialect, err, len(names))
	}

	versions := make([]int64, 0, len(names))
	for _, name := range names {
		number, _, _ := strings.Cut(filepath.Base(name), "_")
		version, err := strconv.ParseInt(number, 10, 64)
		if err != nil {
			t.Fatalf("migration file %q has no version number: %v", name, err)
		}
		versions = append(versions, version)
	}
	slices.Sort(versions)
	return versions
}

func TestMigrationFoldersMatch(t *testing.T) {
	sqlite, postgres := migrationVersions(t, "sqlite"), migrationVersions(t, "postgres")
	if !slices.Equal(sqlite, postgres) {
		t.Errorf("sqlite migrations %v and postgres migrations %v differ: give every version a file in both folders", sqlite, postgres)
	}
}

func openDialect(t *testing.T, dataSource string) *Store {
	t.Helper()

	s, err := Open(context.Background(), dataSource, Options{Compiler: fakeCompile})
	if err != nil {
		t.Fatalf("Open(%q) error = %v", RedactURL(dataSource), err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return s
}

func TestMigrationsReopen(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			dataSource := dialect.open(t)
			first := openDialect(t, dataSource)
			seedTenant(t, first, "acme")

			second := openDialect(t, dataSource)
			var versions []int64
			if err := second.reader.Raw("SELECT version_id FROM schema_migrations WHERE version_id > 0 ORDER BY version_id").Scan(&versions).Error; err != nil {
				t.Fatalf("read schema_migrations: %v", err)
			}
			if got, want := fmt.Sprint(versions), fmt.Sprint(migrationVersions(t, dialect.name)); got != want {
				t.Errorf("applied versions = %s, want %s", got, want)
			}

			b, err := second.Bundle(context.Background(), "acme")
			if err != nil {
				t.Fatalf("Bundle after reopen: %v", err)
			}
			if err := b.Verify(); err != nil {
				t.Errorf("bundle after reopen: %v", err)
			}
		})
	}
}

// TestConcurrentWritersRevisions runs writers of one tenant in parallel and
// checks that every write got its own revision and its own change event.
func TestConcurrentWritersRevisions(t *testing.T) {
	const writers, writesEach = 8, 10

	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			created, err := s.CreateTenant(ctx, config.Tenant{Slug: "acme", Name: "Acme"})
			if err != nil {
				t.Fatalf("CreateTenant: %v", err)
			}

			revisions := make(chan int64, writers*writesEach)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range writesEach {
						updated, err := s.UpdateTenant(ctx, "acme", config.Tenant{Name: fmt.Sprintf("Acme %d-%d", w, i)})
						if err != nil {
							t.Errorf("UpdateTenant: %v", err)
							return
						}
						revisions <- updated.Revision
					}
				}()
			}
			wg.Wait()
			close(revisions)

			seen := map[int64]bool{}
			for revision := range revisions {
				if seen[revision] {
					t.Errorf("revision %d returned to two writers", revision)
				}
				seen[revision] = true
			}
			if got, want := len(seen), writers*writesEach; got != want {
				t.Errorf("distinct revisions = %d, want %d", got, want)
			}

			events, err := s.ChangeEvents(ctx, "acme")
			if err != nil {
				t.Fatalf("ChangeEvents: %v", err)
			}
			if got, want := len(events), writers*writesEach+1; got != want {
				t.Errorf("change events = %d, want %d", got, want)
			}
			last := events[len(events)-1].Revision
			if want := created.Revision + writers*writesEach; last != want {
				t.Errorf("last revision = %d, want %d", last, want)
			}
		})
	}
}

// TestConcurrentCreateConflict checks that racing creates of one slug give
// one tenant and conflicts for the rest.
func TestConcurrentCreateConflict(t *testing.T) {
	const racers = 6

	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))

			errs := make(chan error, racers)
			var wg sync.WaitGroup
			for range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.CreateTenant(context.Background(), config.Tenant{Slug: "race", Name: "Race"})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)

			created := 0
			for err := range errs {
				switch {
				case err == nil:
					created++
				case !errors.Is(err, ErrConflict):
					t.Errorf("CreateTenant error = %v, want nil or a conflict", err)
				}
			}
			if created != 1 {
				t.Errorf("creates that succeeded = %d, want 1", created)
			}
		})
	}
}

// TestFeedOrderUnderConcurrency writes to many tenants at once and checks
// that the feed lists every event once, in increasing position.
func TestFeedOrderUnderConcurrency(t *testing.T) {
	const tenants, writesEach = 6, 8

	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()

			var wg sync.WaitGroup
			for i := range tenants {
				wg.Add(1)
				go func() {
					defer wg.Done()
					slug := fmt.Sprintf("t%d", i)
					if _, err := s.CreateTenant(ctx, config.Tenant{Slug: slug, Name: slug}); err != nil {
						t.Errorf("CreateTenant(%q): %v", slug, err)
						return
					}
					for range writesEach {
						if _, err := s.UpdateTenant(ctx, slug, config.Tenant{Name: slug + "x"}); err != nil {
							t.Errorf("UpdateTenant(%q): %v", slug, err)
						}
					}
				}()
			}
			wg.Wait()

			var all []FeedEvent
			after := int64(0)
			for {
				batch, err := s.Changes(ctx, after, 7)
				if err != nil {
					t.Fatalf("Changes(%d): %v", after, err)
				}
				if len(batch) == 0 {
					break
				}
				all = append(all, batch...)
				after = batch[len(batch)-1].Position
			}

			if got, want := len(all), tenants*(writesEach+1); got != want {
				t.Errorf("feed events = %d, want %d", got, want)
			}
			if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Position < all[j].Position }) {
				t.Errorf("feed positions are not increasing")
			}

			head, err := s.FeedHead(ctx)
			if err != nil {
				t.Fatalf("FeedHead: %v", err)
			}
			if head != after {
				t.Errorf("FeedHead = %d, want the last position %d", head, after)
			}
		})
	}
}

func TestEdgeTokensAndReports(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()

			_, token, err := s.CreateEdgeToken(ctx)
			if err != nil {
				t.Fatalf("CreateEdgeToken: %v", err)
			}
			id, err := s.EdgeTokenID(ctx, token)
			if err != nil {
				t.Fatalf("EdgeTokenID(new token): %v", err)
			}
			if _, err := s.EdgeTokenID(ctx, token+"x"); !errors.Is(err, ErrNotFound) {
				t.Errorf("EdgeTokenID(wrong token) error = %v, want not found", err)
			}

			report := EdgeReport{NodeID: "a-1", Region: "a", Position: 5, Revisions: map[string]int64{"acme": 3}, Healthy: true}
			if err := s.RecordEdge(ctx, id, report); err != nil {
				t.Fatalf("RecordEdge: %v", err)
			}
			report.Position = 9
			if err := s.RecordEdge(ctx, id, report); err != nil {
				t.Fatalf("RecordEdge again: %v", err)
			}

			nodes, err := s.ListEdges(ctx)
			if err != nil {
				t.Fatalf("ListEdges: %v", err)
			}
			if len(nodes) != 1 {
				t.Fatalf("edges = %d, want 1", len(nodes))
			}
			if got := nodes[0].Position; got != 9 {
				t.Errorf("position = %d, want 9", got)
			}
			if got := nodes[0].Revisions["acme"]; got != 3 {
				t.Errorf("revision of acme = %d, want 3", got)
			}
		})
	}
}
