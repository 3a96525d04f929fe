package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/runtime"
	"portcullis.dev/tenants/bundle"
)

// errBusy stands for a pre-flight that found no free check worker.
var errBusy = errors.New("no check worker came free")

// busyBuild builds bare runtimes, but fails revision busy with errBusy
// for as many builds as busyLeft holds, counting each such build.
func busyBuild(busy int64, busyLeft *atomic.Int64) func(*bundle.Bundle) (*runtime.Runtime, error) {
	return func(b *bundle.Bundle) (*runtime.Runtime, error) {
		if b.Revision == busy && busyLeft.Add(-1) >= 0 {
			return nil, fmt.Errorf("pre-flight of revision %d: %w", b.Revision, errBusy)
		}
		return &runtime.Runtime{Tenant: b.Tenant, Revision: b.Revision, Size: 1000}, nil
	}
}

func newRetryStore(t *testing.T, source *fakeSource, build func(*bundle.Bundle) (*runtime.Runtime, error)) *Store {
	t.Helper()
	store, err := New(Options{
		Source:     source,
		Build:      build,
		Retry:      func(err error) bool { return errors.Is(err, errBusy) },
		RetryDelay: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(store.Close)
	return store
}

func TestRefreshRetriesUnjudgedBuild(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	var busyLeft atomic.Int64
	busyLeft.Store(4)
	store := newRetryStore(t, source, busyBuild(2, &busyLeft))
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.put("acme", 2)
	store.Invalidate("acme", 2)
	waitRevision(t, store, "acme", 2)

	if left := busyLeft.Load(); left > 0 {
		t.Errorf("busy builds left = %d, want all 4 used before the swap", left)
	}
	if rejected, found := store.Rejected()["acme"]; found {
		t.Errorf("rejection after builds that did not judge revision 2 = %+v, want none", rejected)
	}
}

func TestRefreshUnjudgedRecordsNoRejection(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	var busyLeft atomic.Int64
	busyLeft.Store(1 << 30)
	store := newRetryStore(t, source, busyBuild(2, &busyLeft))
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.put("acme", 2)
	store.Invalidate("acme", 2)
	deadline := time.Now().Add(time.Second)
	for busyLeft.Load() > 1<<30-3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}

	if used := 1<<30 - busyLeft.Load(); used < 3 {
		t.Errorf("builds of revision 2 within 1s = %d, want at least 3 retries", used)
	}
	if rejected, found := store.Rejected()["acme"]; found {
		t.Errorf("rejection = %+v, want none while revision 2 is not judged", rejected)
	}
	if rt, _ := store.Loaded("acme"); rt == nil || rt.Revision != 1 {
		t.Errorf("serving revision %d, want 1 until revision 2 builds", revisionOf(rt))
	}
}

func TestRefreshRetryStopsOnClose(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	var busyLeft atomic.Int64
	busyLeft.Store(1 << 30)
	store := newRetryStore(t, source, busyBuild(2, &busyLeft))
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}
	source.put("acme", 2)
	store.Invalidate("acme", 2)
	time.Sleep(50 * time.Millisecond)

	closed := make(chan struct{})
	go func() {
		store.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s while a refresh retried")
	}
}

func TestRetryLaterRefreshes(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newRetryStore(t, source, buildRevisions())
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.put("acme", 2)
	store.RetryLater("acme", 2)
	waitRevision(t, store, "acme", 2)
}

func TestRetryDelayDoublesToMax(t *testing.T) {
	store := &Store{opts: Options{RetryDelay: time.Second}}
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{5, 16 * time.Second},
		{6, MaxRetryDelay},
		{1000, MaxRetryDelay},
	}
	for _, tt := range tests {
		if got := store.retryDelay(tt.attempt); got != tt.want {
			t.Errorf("retryDelay(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}
