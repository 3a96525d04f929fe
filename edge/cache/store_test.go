package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/runtime"
	"portcullis.dev/tenants/bundle"
)

// fakeSource serves bundles from memory. When gate is set, each call reads
// the bundle first and then waits on the gate, like a slow source that
// returns what it had when the call began.
type fakeSource struct {
	mu      sync.Mutex
	bundles map[string]*bundle.Bundle
	gate    chan struct{}
	calls   atomic.Int64
}

func newFakeSource() *fakeSource {
	return &fakeSource{bundles: map[string]*bundle.Bundle{}}
}

func (f *fakeSource) put(tenant string, revision int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bundles[tenant] = &bundle.Bundle{Tenant: tenant, Revision: revision}
}

func (f *fakeSource) drop(tenant string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.bundles, tenant)
}

func (f *fakeSource) Bundle(ctx context.Context, tenant string) (*bundle.Bundle, error) {
	f.calls.Add(1)
	f.mu.Lock()
	b, ok := f.bundles[tenant]
	gate := f.gate
	f.mu.Unlock()

	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if !ok {
		return nil, fmt.Errorf("tenant %q: %w", tenant, bundle.ErrTenantNotFound)
	}
	return b, nil
}

// buildRevisions compiles bundles into bare runtimes and fails for the
// revisions in broken.
func buildRevisions(broken ...int64) func(*bundle.Bundle) (*runtime.Runtime, error) {
	return func(b *bundle.Bundle) (*runtime.Runtime, error) {
		for _, revision := range broken {
			if b.Revision == revision {
				return nil, fmt.Errorf("revision %d is broken", revision)
			}
		}
		return &runtime.Runtime{Tenant: b.Tenant, Revision: b.Revision, Size: 1000}, nil
	}
}

func newStore(t *testing.T, source *fakeSource, broken ...int64) *Store {
	t.Helper()
	store, err := New(Options{Source: source, Build: buildRevisions(broken...)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(store.Close)
	return store
}

// waitRevision polls until the tenant's cached runtime has revision want,
// for at most one second.
func waitRevision(t *testing.T, store *Store, tenant string, want int64) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		rt, ok := store.Loaded(tenant)
		if ok && rt.Revision == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant %q revision = %d (cached %t) after 1s, want %d", tenant, revisionOf(rt), ok, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRuntimeLoadsOnce(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newStore(t, source)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			rt, err := store.Runtime(context.Background(), "acme")
			if err != nil {
				errs <- err
				return
			}
			if rt.Revision != 1 {
				errs <- fmt.Errorf("revision = %d, want 1", rt.Revision)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime after load: %v", err)
	}
	if got := source.calls.Load(); got != 1 {
		t.Errorf("source calls = %d, want 1", got)
	}
}

func TestRuntimeUnknownTenant(t *testing.T) {
	source := newFakeSource()
	store := newStore(t, source)

	for range 3 {
		_, err := store.Runtime(context.Background(), "ghost")
		if !errors.Is(err, bundle.ErrTenantNotFound) {
			t.Fatalf("Runtime error = %v, want ErrTenantNotFound", err)
		}
	}
	if got := source.calls.Load(); got != 1 {
		t.Errorf("source calls = %d, want 1 while the miss is remembered", got)
	}

	source.put("ghost", 1)
	store.Invalidate("ghost", 1)
	waitRevision(t, store, "ghost", 1)
}

func TestInvalidateSwapsRevision(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newStore(t, source)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.put("acme", 2)
	store.Invalidate("acme", 2)
	waitRevision(t, store, "acme", 2)

	rt, err := store.Runtime(context.Background(), "acme")
	if err != nil {
		t.Fatalf("Runtime: %v", err)
	}
	if rt.Revision != 2 {
		t.Errorf("Runtime revision = %d, want 2", rt.Revision)
	}
}

func TestInvalidateNeverGoesBack(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 5)
	store := newStore(t, source)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.put("acme", 3)
	store.Invalidate("acme", 3)
	time.Sleep(50 * time.Millisecond)

	waitRevision(t, store, "acme", 5)
	if got := source.calls.Load(); got != 1 {
		t.Errorf("source calls = %d, want 1 because revision 3 is not newer", got)
	}
}

func TestInvalidateUncachedTenant(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newStore(t, source)

	store.Invalidate("acme", 1)
	time.Sleep(20 * time.Millisecond)

	if got := source.calls.Load(); got != 0 {
		t.Errorf("source calls = %d, want 0 for a tenant never requested", got)
	}
	if _, ok := store.Loaded("acme"); ok {
		t.Error("Loaded = true, want false")
	}
}

func TestInvalidateDuringLoad(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	source.gate = make(chan struct{})
	store := newStore(t, source)

	loaded := make(chan *runtime.Runtime, 1)
	go func() {
		rt, err := store.Runtime(context.Background(), "acme")
		if err != nil {
			t.Errorf("Runtime: %v", err)
		}
		loaded <- rt
	}()

	// Wait until the load has read revision 1 and blocks on the gate.
	for source.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	source.put("acme", 2)
	store.Invalidate("acme", 2)

	source.mu.Lock()
	close(source.gate)
	source.gate = nil
	source.mu.Unlock()

	rt := <-loaded
	if rt == nil || rt.Revision != 2 {
		t.Errorf("loaded revision = %d, want 2 because revision 2 was notified during the load", revisionOf(rt))
	}
}

func TestRefreshKeepsOldOnCompileFailure(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newStore(t, source, 2)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.put("acme", 2)
	store.Invalidate("acme", 2)
	time.Sleep(50 * time.Millisecond)
	waitRevision(t, store, "acme", 1)

	source.put("acme", 3)
	store.Invalidate("acme", 3)
	waitRevision(t, store, "acme", 3)
}

func TestRefreshRemovesDeletedTenant(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newStore(t, source)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.drop("acme")
	store.Invalidate("acme", 2)

	deadline := time.Now().Add(time.Second)
	for {
		_, err := store.Runtime(context.Background(), "acme")
		if errors.Is(err, bundle.ErrTenantNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Runtime error = %v after 1s, want ErrTenantNotFound", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRuntimeRejectsForeignBundle(t *testing.T) {
	source := newFakeSource()
	source.bundles["acme"] = &bundle.Bundle{Tenant: "globex", Revision: 1}
	store := newStore(t, source)

	_, err := store.Runtime(context.Background(), "acme")
	if err == nil {
		t.Fatal("Runtime returned no error for a bundle of another tenant")
	}
}

func TestRuntimeCallerGivesUp(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	source.gate = make(chan struct{})
	store := newStore(t, source)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := store.Runtime(ctx, "acme"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Runtime error = %v, want DeadlineExceeded", err)
	}

	source.mu.Lock()
	close(source.gate)
	source.gate = nil
	source.mu.Unlock()
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Errorf("Runtime after the slow load: %v", err)
	}
}

func TestEvictedRuntimeReportedLeaving(t *testing.T) {
	source := newFakeSource()
	left := make(chan string, 64)
	store, err := New(Options{
		Source:  source,
		Build:   buildRevisions(),
		MaxCost: 2500,
		OnLeave: func(tenant string, rt *runtime.Runtime) { left <- fmt.Sprintf("%s@%d", tenant, rt.Revision) },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(store.Close)

	// Each runtime costs 1000, so at most two fit and loading more evicts.
	for i := range 6 {
		tenant := fmt.Sprintf("t%d", i)
		source.put(tenant, 1)
		if _, err := store.Runtime(context.Background(), tenant); err != nil {
			t.Fatalf("Runtime(%s): %v", tenant, err)
		}
		store.l1.Wait()
	}

	select {
	case got := <-left:
		if got[len(got)-2:] != "@1" {
			t.Errorf("OnLeave got %q, want a tenant at revision 1", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("OnLeave was not called although six runtimes of cost 1000 went into a budget of 2500")
	}
}
