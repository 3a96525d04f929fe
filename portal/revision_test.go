package portal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"

	"portcullis.dev/tenants/bundle"
)

func TestEveryWriteRaisesRevisionByOne(t *testing.T) {
	tp := startPortal(t)
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": "x"}, http.StatusCreated)
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.1.0", "source": "y"}, http.StatusCreated)
	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	bindingID := ""

	writes := []struct {
		method string
		path   func() string
		body   any
		want   int
	}{
		{"PUT", func() string { return "/api/v1/tenants/acme" }, map[string]any{"name": "Acme 2"}, 200},
		{"POST", func() string { return "/api/v1/tenants/acme/upstreams" }, map[string]any{"name": "b", "targets": []map[string]any{{"url": "http://127.0.0.1:1"}}}, 201},
		{"PUT", func() string { return "/api/v1/tenants/acme/upstreams/b" }, map[string]any{"targets": []map[string]any{{"url": "http://127.0.0.1:2"}}}, 200},
		{"POST", func() string { return "/api/v1/tenants/acme/routes" }, map[string]any{"name": "r", "paths": []string{"/"}, "upstream": "b"}, 201},
		{"PUT", func() string { return "/api/v1/tenants/acme/routes/r" }, map[string]any{"paths": []string{"/x"}, "upstream": "b"}, 200},
		{"POST", func() string { return "/api/v1/tenants/acme/bindings" }, map[string]any{"plugin": "hello", "version": "1.0.0", "route": "r"}, 201},
		{"PATCH", func() string { return "/api/v1/tenants/acme/bindings/" + bindingID }, map[string]any{"version": "1.1.0"}, 200},
		{"DELETE", func() string { return "/api/v1/tenants/acme/bindings/" + bindingID }, nil, 204},
		{"DELETE", func() string { return "/api/v1/tenants/acme/routes/r" }, nil, 204},
		{"DELETE", func() string { return "/api/v1/tenants/acme/upstreams/b" }, nil, 204},
	}

	for i, w := range writes {
		path := w.path()
		t.Run(fmt.Sprintf("%d %s %s", i, w.method, path), func(t *testing.T) {
			before := tp.revision("acme")
			callsBefore := len(tp.changes.snapshot())

			resp := tp.do(w.method, path, w.body, w.want)
			if bindingID == "" && w.method == "POST" && w.want == 201 && path == "/api/v1/tenants/acme/bindings" {
				bindingID = decodeInto[struct {
					ID string `json:"id"`
				}](t, resp).ID
			}

			after := tp.revision("acme")
			if after != before+1 {
				t.Errorf("revision = %d, want %d", after, before+1)
			}
			calls := tp.changes.snapshot()
			if len(calls) != callsBefore+1 || calls[len(calls)-1] != fmt.Sprintf("acme@%d", after) {
				t.Errorf("ChangeFunc calls = %v, want one more: acme@%d", calls, after)
			}
		})
	}

	events, err := tp.portal.Store().ChangeEvents(context.Background(), "acme")
	if err != nil {
		t.Fatalf("ChangeEvents() error = %v", err)
	}
	if len(events) != len(writes)+1 {
		t.Errorf("change events = %d, want %d", len(events), len(writes)+1)
	}
}

func TestConcurrentHTTPWritersGetDistinctRevisions(t *testing.T) {
	tp := startPortal(t)
	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme"}, http.StatusCreated)

	const writers, writesEach = 4, 8
	var wg sync.WaitGroup
	statuses := make(chan int, writers*writesEach)
	for w := range writers {
		wg.Go(func() {
			for i := range writesEach {
				body := fmt.Sprintf(`{"name":"u-%d-%d","targets":[{"url":"http://127.0.0.1:1"}]}`, w, i)
				resp := tp.send(request{method: "POST", path: "/api/v1/tenants/acme/upstreams", body: body})
				statuses <- resp.status
			}
		})
	}
	wg.Wait()
	close(statuses)

	for status := range statuses {
		if status != http.StatusCreated {
			t.Errorf("status = %d, want 201", status)
		}
	}

	calls := tp.changes.snapshot()[1:]
	sort.Strings(calls)
	seen := make(map[string]bool)
	for _, call := range calls {
		if seen[call] {
			t.Errorf("revision %s was reported twice", call)
		}
		seen[call] = true
	}
	if got, want := tp.revision("acme"), int64(writers*writesEach+1); got != want {
		t.Errorf("revision = %d, want %d", got, want)
	}
}

func TestBundleHashVerifies(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	first := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.1.0", "config": map[string]any{"greeting": "a"}})
	second := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "b"}})

	var source bundle.Source = tp.portal.Store()
	got, err := source.Bundle(context.Background(), "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}

	if err := got.Verify(); err != nil {
		t.Errorf("Verify() error = %v", err)
	}
	if got.Revision != tp.revision("acme") {
		t.Errorf("bundle revision = %d, want %d", got.Revision, tp.revision("acme"))
	}
	if len(got.Bindings) != 2 || got.Bindings[0].ID != first || got.Bindings[1].ID != second {
		t.Errorf("bindings = %+v, want %s then %s", got.Bindings, first, second)
	}
	for _, key := range []string{bundle.Key("hello", "1.0.0"), bundle.Key("hello", "1.1.0")} {
		code, ok := got.Plugins[key]
		if !ok {
			t.Errorf("bundle lacks plugin %s", key)
			continue
		}
		if code.SHA256 != bundle.SourceHash(code.Source) {
			t.Errorf("plugin %s SHA256 = %s, want %s", key, code.SHA256, bundle.SourceHash(code.Source))
		}
	}

	tampered := *got
	tampered.Revision++
	if err := tampered.Verify(); err == nil {
		t.Error("Verify() of a changed bundle = nil, want a hash mismatch")
	}

	if _, err := source.Bundle(context.Background(), "nobody"); !errors.Is(err, bundle.ErrTenantNotFound) {
		t.Errorf("Bundle(unknown) error = %v, want bundle.ErrTenantNotFound", err)
	}
}

func TestBindingOfOtherTenantIsNotFound(t *testing.T) {
	tp := startPortal(t)
	tp.seed("alpha")
	tp.seed("beta")
	id := tp.createBinding("alpha", map[string]any{"plugin": "hello", "version": "1.0.0", "config": map[string]any{"greeting": "hi"}})
	betaBefore := tp.revision("beta")
	alphaBefore := tp.revision("alpha")

	tests := []struct {
		method string
		body   any
	}{
		{"GET", nil},
		{"PATCH", map[string]any{"version": "1.1.0"}},
		{"DELETE", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			resp := tp.send(request{method: tt.method, path: "/api/v1/tenants/beta/bindings/" + id, body: tt.body})
			checkProblem(t, resp, http.StatusNotFound, "")
		})
	}

	if got := string(tp.do("GET", "/api/v1/tenants/beta/bindings", nil, http.StatusOK).body); got != "[]" {
		t.Errorf("bindings of beta = %s, want []", got)
	}
	if tp.revision("beta") != betaBefore || tp.revision("alpha") != alphaBefore {
		t.Error("a request under the wrong tenant changed a revision")
	}
	tp.do("GET", "/api/v1/tenants/alpha/bindings/"+id, nil, http.StatusOK)
}

func TestEmptyListsAreArrays(t *testing.T) {
	tp := startPortal(t)

	if got := string(tp.do("GET", "/api/v1/tenants", nil, http.StatusOK).body); got != "[]" {
		t.Errorf("tenants = %s, want []", got)
	}
	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	for _, kind := range []string{"upstreams", "routes", "bindings"} {
		if got := string(tp.do("GET", "/api/v1/tenants/acme/"+kind, nil, http.StatusOK).body); got != "[]" {
			t.Errorf("%s = %s, want []", kind, got)
		}
	}
}
