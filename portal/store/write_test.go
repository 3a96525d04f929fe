package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"portcullis.dev/tenants/config"
)

// changeRecorder is a ChangeFunc that keeps every call.
type changeRecorder struct {
	mu    sync.Mutex
	calls []string
	revs  []int64
}

func (r *changeRecorder) record(tenant string, revision int64) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.calls = append(r.calls, fmt.Sprintf("%s@%d", tenant, revision))
	r.revs = append(r.revs, revision)
}

func (r *changeRecorder) snapshot() ([]string, []int64) {
	r.mu.Lock()
	defer r.mu.Unlock()

	return append([]string(nil), r.calls...), append([]int64(nil), r.revs...)
}

func TestRevisionGrowsByOnePerWrite(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	recorder := &changeRecorder{}
	s.OnChange(recorder.record)

	var bindingID string
	greeting := json.RawMessage(`{"greeting":"hi"}`)
	version := "1.1.0"
	everyRoute := ""

	publishHello(t, s, "1.0.0")
	publishHello(t, s, "1.1.0")

	writes := []struct {
		name     string
		write    func() error
		kind     string
		resource func() string
	}{
		{"create tenant", func() error {
			_, err := s.CreateTenant(ctx, config.Tenant{Slug: "acme", Name: "Acme"})
			return err
		}, KindCreate, func() string { return "tenant/acme" }},
		{"rename tenant", func() error {
			_, err := s.UpdateTenant(ctx, "acme", config.Tenant{Name: "Acme Corp"})
			return err
		}, KindUpdate, func() string { return "tenant/acme" }},
		{"create upstream", func() error {
			_, err := s.CreateUpstream(ctx, "acme", config.Upstream{Name: "backend", Targets: []config.Target{{URL: "http://127.0.0.1:9999"}}})
			return err
		}, KindCreate, func() string { return "upstream/backend" }},
		{"update upstream", func() error {
			_, err := s.UpdateUpstream(ctx, "acme", "backend", config.Upstream{Targets: []config.Target{{URL: "http://127.0.0.1:9998", Weight: 2}}})
			return err
		}, KindUpdate, func() string { return "upstream/backend" }},
		{"create route", func() error {
			_, err := s.CreateRoute(ctx, "acme", config.Route{Name: "all", Paths: []string{"/"}, Upstream: "backend"})
			return err
		}, KindCreate, func() string { return "route/all" }},
		{"update route", func() error {
			_, err := s.UpdateRoute(ctx, "acme", "all", config.Route{Paths: []string{"/api"}, Methods: []string{"GET"}, Upstream: "backend"})
			return err
		}, KindUpdate, func() string { return "route/all" }},
		{"create binding", func() error {
			created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Route: "all", Config: greeting})
			bindingID = created.ID
			return err
		}, KindCreate, func() string { return "binding/" + bindingID }},
		{"patch binding", func() error {
			_, err := s.UpdateBinding(ctx, "acme", bindingID, BindingPatch{Version: &version, Route: &everyRoute})
			return err
		}, KindUpdate, func() string { return "binding/" + bindingID }},
		{"delete binding", func() error {
			return s.DeleteBinding(ctx, "acme", bindingID)
		}, KindDelete, func() string { return "binding/" + bindingID }},
		{"delete route", func() error {
			return s.DeleteRoute(ctx, "acme", "all")
		}, KindDelete, func() string { return "route/all" }},
		{"delete upstream", func() error {
			return s.DeleteUpstream(ctx, "acme", "backend")
		}, KindDelete, func() string { return "upstream/backend" }},
	}

	for i, w := range writes {
		if err := w.write(); err != nil {
			t.Fatalf("%s: error = %v", w.name, err)
		}

		want := int64(i + 1)
		if got := revisionOf(t, s, "acme"); got != want {
			t.Errorf("%s: revision = %d, want %d", w.name, got, want)
		}

		calls, _ := recorder.snapshot()
		if len(calls) != i+1 {
			t.Fatalf("%s: ChangeFunc calls = %v, want %d calls", w.name, calls, i+1)
		}
		if wantCall := fmt.Sprintf("acme@%d", want); calls[i] != wantCall {
			t.Errorf("%s: ChangeFunc call = %q, want %q", w.name, calls[i], wantCall)
		}
	}

	events, err := s.ChangeEvents(ctx, "acme")
	if err != nil {
		t.Fatalf("ChangeEvents() error = %v", err)
	}
	if len(events) != len(writes) {
		t.Fatalf("ChangeEvents() returned %d events, want %d", len(events), len(writes))
	}
	for i, w := range writes {
		event := events[i]
		if event.Revision != int64(i+1) || event.Kind != w.kind || event.Resource != w.resource() {
			t.Errorf("event %d = %d %s %s, want %d %s %s", i, event.Revision, event.Kind, event.Resource, i+1, w.kind, w.resource())
		}
	}
}

func TestPublishDoesNotRaiseRevision(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	before := revisionOf(t, s, "acme")

	publishHello(t, s, "2.0.0")

	if got := revisionOf(t, s, "acme"); got != before {
		t.Errorf("revision after publish = %d, want %d", got, before)
	}
}

func TestInvalidWriteChangesNothing(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()
	missing := "9.9.9"

	tests := []struct {
		name      string
		write     func() error
		wantField string
	}{
		{"route to missing upstream", func() error {
			_, err := s.CreateRoute(ctx, "acme", config.Route{Name: "r2", Paths: []string{"/"}, Upstream: "nope"})
			return err
		}, "upstream"},
		{"route update to missing upstream", func() error {
			_, err := s.UpdateRoute(ctx, "acme", "all", config.Route{Paths: []string{"/"}, Upstream: "nope"})
			return err
		}, "upstream"},
		{"upstream without targets", func() error {
			_, err := s.CreateUpstream(ctx, "acme", config.Upstream{Name: "empty"})
			return err
		}, "targets"},
		{"upstream rename", func() error {
			_, err := s.UpdateUpstream(ctx, "acme", "backend", config.Upstream{Name: "other", Targets: []config.Target{{URL: "http://127.0.0.1:1"}}})
			return err
		}, "name"},
		{"binding of unknown plugin", func() error {
			_, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "nope", Version: "1.0.0"})
			return err
		}, "plugin"},
		{"binding of unpublished version", func() error {
			_, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: missing, Config: json.RawMessage(`{"greeting":"hi"}`)})
			return err
		}, "version"},
		{"binding to missing route", func() error {
			_, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Route: "nope", Config: json.RawMessage(`{"greeting":"hi"}`)})
			return err
		}, "route"},
		{"binding config of wrong type", func() error {
			_, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":5}`)})
			return err
		}, "config.greeting"},
		{"binding config missing property", func() error {
			_, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0"})
			return err
		}, "config.greeting"},
		{"tenant slug change", func() error {
			_, err := s.UpdateTenant(ctx, "acme", config.Tenant{Slug: "other", Name: "x"})
			return err
		}, "slug"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := revisionOf(t, s, "acme")
			eventsBefore, _ := s.ChangeEvents(ctx, "acme")
			bundleBefore, err := s.Bundle(ctx, "acme")
			if err != nil {
				t.Fatalf("Bundle() error = %v", err)
			}

			err = tt.write()

			var fieldErr *config.FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("error = %v, want a *config.FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("field = %q, want %q (message %q)", fieldErr.Field, tt.wantField, fieldErr.Message)
			}
			if got := revisionOf(t, s, "acme"); got != before {
				t.Errorf("revision = %d, want unchanged %d", got, before)
			}
			eventsAfter, _ := s.ChangeEvents(ctx, "acme")
			if len(eventsAfter) != len(eventsBefore) {
				t.Errorf("change events = %d, want unchanged %d", len(eventsAfter), len(eventsBefore))
			}
			bundleAfter, err := s.Bundle(ctx, "acme")
			if err != nil {
				t.Fatalf("Bundle() error = %v", err)
			}
			if bundleAfter.Hash != bundleBefore.Hash {
				t.Errorf("bundle hash = %s, want unchanged %s", bundleAfter.Hash, bundleBefore.Hash)
			}
		})
	}
}

func TestConcurrentWritersGetDistinctRevisions(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	if _, err := s.CreateTenant(ctx, config.Tenant{Slug: "acme", Name: "Acme"}); err != nil {
		t.Fatalf("CreateTenant() error = %v", err)
	}
	recorder := &changeRecorder{}
	s.OnChange(recorder.record)

	const writers, writesEach = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*writesEach)
	for w := range writers {
		wg.Go(func() {
			for i := range writesEach {
				name := fmt.Sprintf("up-%d-%d", w, i)
				upstream := config.Upstream{Name: name, Targets: []config.Target{{URL: "http://127.0.0.1:9999"}}}
				if _, err := s.CreateUpstream(ctx, "acme", upstream); err != nil {
					errs <- fmt.Errorf("CreateUpstream(%q): %w", name, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	_, revisions := recorder.snapshot()
	sort.Slice(revisions, func(i, j int) bool { return revisions[i] < revisions[j] })
	if len(revisions) != writers*writesEach {
		t.Fatalf("ChangeFunc calls = %d, want %d", len(revisions), writers*writesEach)
	}
	for i, revision := range revisions {
		if want := int64(i + 2); revision != want {
			t.Fatalf("sorted revisions[%d] = %d, want %d (duplicate or gap)", i, revision, want)
		}
	}
	if got, want := revisionOf(t, s, "acme"), int64(writers*writesEach+1); got != want {
		t.Errorf("final revision = %d, want %d", got, want)
	}
}

func TestRecreatedTenantContinuesRevisions(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()
	recorder := &changeRecorder{}
	s.OnChange(recorder.record)
	before := revisionOf(t, s, "acme")

	if err := s.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatalf("DeleteTenant() error = %v", err)
	}
	if _, err := s.GetTenant(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetTenant(deleted) error = %v, want ErrNotFound", err)
	}
	recreated, err := s.CreateTenant(ctx, config.Tenant{Slug: "acme", Name: "Acme again"})
	if err != nil {
		t.Fatalf("CreateTenant(again) error = %v", err)
	}

	if want := before + 2; recreated.Revision != want {
		t.Errorf("revision of recreated tenant = %d, want %d", recreated.Revision, want)
	}
	calls, _ := recorder.snapshot()
	wantCalls := []string{fmt.Sprintf("acme@%d", before+1), fmt.Sprintf("acme@%d", before+2)}
	if fmt.Sprint(calls) != fmt.Sprint(wantCalls) {
		t.Errorf("ChangeFunc calls = %v, want %v", calls, wantCalls)
	}
	upstreams, err := s.ListUpstreams(ctx, "acme")
	if err != nil {
		t.Fatalf("ListUpstreams() error = %v", err)
	}
	if len(upstreams) != 0 {
		t.Errorf("upstreams of recreated tenant = %v, want none", upstreams)
	}
}

func TestPanickingListenerDoesNotStopOthers(t *testing.T) {
	s := openTestStore(t)
	recorder := &changeRecorder{}
	s.OnChange(func(string, int64) { panic("listener bug") })
	s.OnChange(recorder.record)

	if _, err := s.CreateTenant(context.Background(), config.Tenant{Slug: "acme", Name: "Acme"}); err != nil {
		t.Fatalf("CreateTenant() error = %v", err)
	}

	calls, _ := recorder.snapshot()
	if len(calls) != 1 || calls[0] != "acme@1" {
		t.Errorf("second listener calls = %v, want [acme@1]", calls)
	}
}
