package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func TestBundleContainsConfigAndVerifies(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()

	var ids []string
	for _, version := range []string{"1.1.0", "1.0.0", "1.1.0"} {
		created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: version, Config: json.RawMessage(`{"greeting": "hi"}`)})
		if err != nil {
			t.Fatalf("CreateBinding(%s) error = %v", version, err)
		}
		ids = append(ids, created.ID)
	}

	got, err := s.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}

	if err := got.Verify(); err != nil {
		t.Errorf("Verify() error = %v", err)
	}
	if got.Tenant != "acme" || got.Revision != revisionOf(t, s, "acme") {
		t.Errorf("bundle is %s@%d, want acme@%d", got.Tenant, got.Revision, revisionOf(t, s, "acme"))
	}
	if len(got.Upstreams) != 1 || len(got.Routes) != 1 {
		t.Errorf("bundle has %d upstreams and %d routes, want 1 and 1", len(got.Upstreams), len(got.Routes))
	}

	var gotIDs []string
	for _, binding := range got.Bindings {
		gotIDs = append(gotIDs, binding.ID)
	}
	if fmt.Sprint(gotIDs) != fmt.Sprint(ids) {
		t.Errorf("binding order = %v, want creation order %v", gotIDs, ids)
	}
	if config := string(got.Bindings[0].Config); config != `{"greeting":"hi"}` {
		t.Errorf("binding config = %s, want compact {\"greeting\":\"hi\"}", config)
	}

	if len(got.Plugins) != 2 {
		t.Fatalf("bundle has %d plugins, want 2", len(got.Plugins))
	}
	for key, code := range got.Plugins {
		if key != bundle.Key(code.Name, code.Version) {
			t.Errorf("plugin key %q holds %s@%s", key, code.Name, code.Version)
		}
		if code.SHA256 != bundle.SourceHash(code.Source) {
			t.Errorf("plugin %s SHA256 = %s, want %s", key, code.SHA256, bundle.SourceHash(code.Source))
		}
	}
}

func TestBundleOfEmptyTenantHasEmptyLists(t *testing.T) {
	s := openTestStore(t)
	if _, err := s.CreateTenant(context.Background(), config.Tenant{Slug: "empty", Name: "Empty"}); err != nil {
		t.Fatalf("CreateTenant() error = %v", err)
	}

	got, err := s.Bundle(context.Background(), "empty")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}

	encoded, _ := json.Marshal(got)
	for _, field := range []string{`"upstreams":[]`, `"routes":[]`, `"bindings":[]`, `"plugins":{}`} {
		if !strings.Contains(string(encoded), field) {
			t.Errorf("bundle JSON %s lacks %s", encoded, field)
		}
	}
}

func TestBundleCacheFollowsRevision(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()

	first, err := s.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}
	again, err := s.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}
	if again != first {
		t.Error("second Bundle() at the same revision built a new bundle, want the cached one")
	}

	if _, err := s.UpdateTenant(ctx, "acme", config.Tenant{Name: "Renamed"}); err != nil {
		t.Fatalf("UpdateTenant() error = %v", err)
	}
	after, err := s.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}
	if after.Revision != first.Revision+1 {
		t.Errorf("revision after write = %d, want %d", after.Revision, first.Revision+1)
	}

	if err := s.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatalf("DeleteTenant() error = %v", err)
	}
	if _, err := s.Bundle(ctx, "acme"); !errors.Is(err, bundle.ErrTenantNotFound) {
		t.Errorf("Bundle(deleted) error = %v, want bundle.ErrTenantNotFound", err)
	}
}

// TestBundleWhileVersionFlips reads bundles from several goroutines while
// one writer switches a binding between two versions every 100 ms. Each
// bundle must verify and name a version whose source it carries.
func TestBundleWhileVersionFlips(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()
	created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi"}`)})
	if err != nil {
		t.Fatalf("CreateBinding() error = %v", err)
	}

	const flips, readers = 12, 4
	stop := make(chan struct{})
	errs := make(chan error, readers+1)
	var wg sync.WaitGroup

	for range readers {
		wg.Go(func() {
			errs <- readBundlesUntil(ctx, s, stop)
		})
	}

	versions := []string{"1.1.0", "1.0.0"}
	for i := range flips {
		time.Sleep(100 * time.Millisecond)
		version := versions[i%2]
		if _, err := s.UpdateBinding(ctx, "acme", created.ID, BindingPatch{Version: &version}); err != nil {
			t.Errorf("flip %d to %s: error = %v", i, version, err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// readBundlesUntil calls Bundle in a loop until stop closes and checks each
// result. Revisions seen by one goroutine must never go down.
func readBundlesUntil(ctx context.Context, s *Store, stop <-chan struct{}) error {
	var last int64
	reads := 0

	for {
		select {
		case <-stop:
			if reads == 0 {
				return errors.New("reader made no Bundle call")
			}
			return nil
		default:
		}

		got, err := s.Bundle(ctx, "acme")
		if err != nil {
			return fmt.Errorf("Bundle() error = %w", err)
		}
		reads++

		if err := got.Verify(); err != nil {
			return fmt.Errorf("bundle at revision %d: %w", got.Revision, err)
		}
		if got.Revision < last {
			return fmt.Errorf("revision went down from %d to %d", last, got.Revision)
		}
		last = got.Revision

		binding := got.Bindings[0]
		code, ok := got.Plugins[bundle.Key(binding.Plugin, binding.Version)]
		if !ok || len(got.Plugins) != 1 {
			return fmt.Errorf("bundle at revision %d binds %s@%s but carries plugins %v", got.Revision, binding.Plugin, binding.Version, keys(got.Plugins))
		}
		if !strings.Contains(code.Source, binding.Version) {
			return fmt.Errorf("bundle at revision %d carries the wrong source for %s", got.Revision, binding.Version)
		}
	}
}

func keys(plugins map[string]bundle.PluginCode) []string {
	var names []string
	for key := range plugins {
		names = append(names, key)
	}
	return names
}
