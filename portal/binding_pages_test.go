package portal_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestBindingListPages(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	base := "/api/v1/tenants/acme/bindings"
	var created []string
	for _, greeting := range []string{"one", "two", "three"} {
		created = append(created, tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "config": map[string]any{"greeting": greeting}}))
	}

	first := tp.do("GET", base+"?limit=2", nil, http.StatusOK)
	if got, want := bindingIDs(t, first), strings.Join(created[:2], ","); got != want {
		t.Errorf("first page = %s, want %s", got, want)
	}
	link := first.header.Get("Link")
	if !strings.Contains(link, "after="+created[1]) || !strings.HasSuffix(link, `rel="next"`) {
		t.Fatalf("Link = %q, want a next link after %s", link, created[1])
	}

	next := strings.TrimPrefix(strings.Split(link, ">")[0], "<")
	second := tp.do("GET", next, nil, http.StatusOK)
	if got := bindingIDs(t, second); got != created[2] {
		t.Errorf("second page = %s, want %s", got, created[2])
	}
	if link := second.header.Get("Link"); link != "" {
		t.Errorf("last page Link = %q, want none", link)
	}

	if got, want := bindingIDs(t, tp.do("GET", base, nil, http.StatusOK)), strings.Join(created, ","); got != want {
		t.Errorf("list without limit = %s, want %s", got, want)
	}
	checkProblem(t, tp.send(request{method: "GET", path: base + "?limit=1001"}), http.StatusUnprocessableEntity, "limit")
	checkProblem(t, tp.send(request{method: "GET", path: base + "?after=bnd_missing"}), http.StatusUnprocessableEntity, "after")
}

func bindingIDs(t *testing.T, resp response) string {
	t.Helper()
	var ids []string
	for _, binding := range decodeInto[[]map[string]any](t, resp) {
		id, _ := binding["id"].(string)
		ids = append(ids, id)
	}
	return strings.Join(ids, ",")
}
