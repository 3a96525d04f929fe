package portal_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestUpstreamListPages(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	base := "/api/v1/tenants/acme/upstreams"
	for _, name := range []string{"alpha", "beta"} {
		tp.do("POST", base, map[string]any{"name": name, "targets": []map[string]any{{"url": "http://127.0.0.1:9001", "weight": 1}}}, http.StatusCreated)
	}

	first := tp.do("GET", base+"?limit=2", nil, http.StatusOK)
	if got := listNames(t, first); got != "alpha,backend" {
		t.Errorf("first page = %s, want alpha,backend", got)
	}
	link := first.header.Get("Link")
	if !strings.Contains(link, "after=backend") || !strings.HasSuffix(link, `rel="next"`) {
		t.Fatalf("Link = %q, want a next link after backend", link)
	}

	next := strings.TrimPrefix(strings.Split(link, ">")[0], "<")
	second := tp.do("GET", next, nil, http.StatusOK)
	if got := listNames(t, second); got != "beta" {
		t.Errorf("second page = %s, want beta", got)
	}
	if link := second.header.Get("Link"); link != "" {
		t.Errorf("last page Link = %q, want none", link)
	}

	resp := tp.send(request{method: "GET", path: base + "?limit=0"})
	checkProblem(t, resp, http.StatusUnprocessableEntity, "limit")
}
