package portal_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRouteMatchingFieldsRoundTrip(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	base := "/api/v1/tenants/acme/routes"
	body := `{"name":"users","paths":["/users/{id}","=/users"],"methods":["GET"],"upstream":"backend",` +
		`"hosts":["api.acme.example","*.acme.example"],"headers":[{"name":"X-Env","value":"beta"},{"name":"X-Trace"}],` +
		`"query":[{"name":"debug"},{"name":"v","value":""}],"priority":5,"max_body_bytes":1024}`

	created := tp.do("POST", base, json.RawMessage(body), http.StatusCreated)
	if got := string(created.body); got != body {
		t.Errorf("POST = %s, want %s", got, body)
	}
	if got := string(tp.do("GET", base+"/users", nil, http.StatusOK).body); got != body {
		t.Errorf("GET = %s, want %s", got, body)
	}

	// PUT replaces every field; fields left out return to their defaults.
	replaced := `{"name":"users","paths":["/users"],"methods":[],"upstream":"backend","priority":-1}`
	tp.do("PUT", base+"/users", json.RawMessage(replaced), http.StatusOK)
	if got := string(tp.do("GET", base+"/users", nil, http.StatusOK).body); got != replaced {
		t.Errorf("GET after PUT = %s, want %s", got, replaced)
	}
}

func TestRouteListPages(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	base := "/api/v1/tenants/acme/routes"
	for _, name := range []string{"api-a", "api-b", "api-c", "web"} {
		tp.do("POST", base, map[string]any{"name": name, "paths": []string{"/" + name}, "upstream": "backend"}, http.StatusCreated)
	}

	first := tp.do("GET", base+"?name=API&limit=2", nil, http.StatusOK)
	if got := listNames(t, first); got != "api-a,api-b" {
		t.Errorf("first page = %s, want api-a,api-b", got)
	}
	link := first.header.Get("Link")
	if !strings.Contains(link, "after=api-b") || !strings.Contains(link, "name=API") || !strings.HasSuffix(link, `rel="next"`) {
		t.Fatalf("Link = %q, want a next link after api-b that keeps name=API", link)
	}

	next := strings.TrimPrefix(strings.Split(link, ">")[0], "<")
	second := tp.do("GET", next, nil, http.StatusOK)
	if got := listNames(t, second); got != "api-c" {
		t.Errorf("second page = %s, want api-c", got)
	}
	if link := second.header.Get("Link"); link != "" {
		t.Errorf("last page Link = %q, want none", link)
	}

	if got := listNames(t, tp.do("GET", base+"?name=nothing", nil, http.StatusOK)); got != "" {
		t.Errorf("filtered list = %q, want empty", got)
	}
	if got := string(tp.do("GET", base+"?name=nothing", nil, http.StatusOK).body); got != "[]" {
		t.Errorf("empty list body = %s, want []", got)
	}
}

func listNames(t *testing.T, resp response) string {
	t.Helper()
	var names []string
	for _, route := range decodeInto[[]map[string]any](t, resp) {
		names = append(names, route["name"].(string))
	}
	return strings.Join(names, ",")
}
