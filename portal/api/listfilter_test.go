package api

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// getListPage reads one page of a list and returns the names on it and
// the Link header.
func getListPage(t *testing.T, w *walkServer, path string) ([]string, string) {
	t.Helper()

	req, err := http.NewRequest("GET", w.base+path, nil)
	if err != nil {
		t.Fatalf("build GET %s: %v", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+walkOperatorToken)
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status = %d, want 200", path, resp.StatusCode)
	}

	var items []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&items); err != nil {
		t.Fatalf("decode page of %s: %v", path, err)
	}
	names := []string{}
	for _, item := range items {
		name, _ := item["name"].(string)
		names = append(names, name)
	}
	return names, resp.Header.Get("Link")
}

func TestConsumerFilterFollowsLink(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	base := "/api/v1/tenants/acme/consumers"
	w.must(walkOperatorToken, "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	consumers := map[string][]string{"ios-1": {"prod"}, "ios-2": {"dev"}, "ios-3": {"prod"}, "ios-4": {"eu", "prod"}, "web-1": {"prod"}}
	for name, tags := range consumers {
		w.must(walkOperatorToken, "POST", base, map[string]any{"name": name, "tags": tags}, http.StatusCreated)
	}

	var names, links []string
	path := base + "?name=IOS&tag=prod&limit=2"
	for range 5 {
		page, link := getListPage(t, w, path)
		names = append(names, page...)
		if link == "" {
			break
		}
		links = append(links, link)
		path = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	}

	if got, want := strings.Join(names, ","), "ios-1,ios-3,ios-4"; got != want {
		t.Errorf("filtered names = %s, want %s", got, want)
	}
	wantLinks := []string{`<` + base + `?after=ios-3&limit=2&name=IOS&tag=prod>; rel="next"`}
	if strings.Join(links, " ") != strings.Join(wantLinks, " ") {
		t.Errorf("links = %q, want %q", links, wantLinks)
	}

	_, link := getListPage(t, w, base+"?limit=2")
	if want := `<` + base + `?after=ios-2&limit=2>; rel="next"`; link != want {
		t.Errorf("unfiltered Link = %q, want %q", link, want)
	}
}

func TestListFilterLengthLimits(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	w.must(walkOperatorToken, "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	base := "/api/v1/tenants/acme"
	long := strings.Repeat("n", 64)
	longPlugin := strings.Repeat("p", 63) + "/" + strings.Repeat("n", 64)

	tests := []struct {
		path      string
		wantField string
	}{
		{base + "/upstreams?name=" + long, "name"},
		{base + "/consumers?name=" + long, "name"},
		{base + "/consumers?tag=" + long, "tag"},
		{base + "/bindings?plugin=" + longPlugin, "plugin"},
		{base + "/bindings?route=" + long, "route"},
		{base + "/bindings?consumer=" + long, "consumer"},
	}
	for _, tt := range tests {
		data := w.must(walkOperatorToken, "GET", tt.path, nil, http.StatusUnprocessableEntity)
		var problem Problem
		if err := json.Unmarshal(data, &problem); err != nil {
			t.Fatalf("decode problem of %s: %v", tt.path, err)
		}
		if len(problem.Errors) != 1 || problem.Errors[0].Field != tt.wantField {
			t.Errorf("GET %s: errors = %+v, want one on %q", tt.path, problem.Errors, tt.wantField)
		}
	}

	longest := []string{
		base + "/upstreams?name=" + long[1:],
		base + "/consumers?tag=" + long[1:],
		base + "/bindings?plugin=" + longPlugin[1:],
	}
	for _, path := range longest {
		if got := string(w.must(walkOperatorToken, "GET", path, nil, http.StatusOK)); got != "[]" {
			t.Errorf("GET %s = %s, want []", path, got)
		}
	}
}
