package portal_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestTenantCRUD(t *testing.T) {
	tp := startPortal(t)

	resp := tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": " Acme "}, http.StatusCreated)
	if got := resp.header.Get("Location"); got != "/api/v1/tenants/acme" {
		t.Errorf("Location = %q, want /api/v1/tenants/acme", got)
	}
	createdTenant := decodeInto[map[string]any](t, resp)
	if createdTenant["slug"] != "acme" || createdTenant["name"] != "Acme" || createdTenant["revision"] != 1.0 {
		t.Errorf("created = %v, want slug acme, trimmed name Acme, revision 1", createdTenant)
	}

	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "beta", "name": "Beta"}, http.StatusCreated)
	list := decodeInto[[]map[string]any](t, tp.do("GET", "/api/v1/tenants", nil, http.StatusOK))
	if len(list) != 2 || list[0]["slug"] != "acme" || list[1]["slug"] != "beta" {
		t.Errorf("list = %v, want acme then beta", list)
	}

	updated := decodeInto[map[string]any](t, tp.do("PUT", "/api/v1/tenants/acme", map[string]any{"name": "Acme Corp"}, http.StatusOK))
	if updated["name"] != "Acme Corp" || updated["revision"] != 2.0 {
		t.Errorf("updated = %v, want name Acme Corp at revision 2", updated)
	}
	got := decodeInto[map[string]any](t, tp.do("GET", "/api/v1/tenants/acme", nil, http.StatusOK))
	if got["name"] != "Acme Corp" {
		t.Errorf("GET after PUT = %v, want name Acme Corp", got)
	}

	tp.do("DELETE", "/api/v1/tenants/acme", nil, http.StatusNoContent)
	checkProblem(t, tp.send(request{method: "GET", path: "/api/v1/tenants/acme"}), http.StatusNotFound, "")
	checkProblem(t, tp.send(request{method: "DELETE", path: "/api/v1/tenants/acme"}), http.StatusNotFound, "")
}

func TestUpstreamCRUD(t *testing.T) {
	tp := startPortal(t)
	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	base := "/api/v1/tenants/acme/upstreams"

	if got := string(tp.do("GET", base, nil, http.StatusOK).body); got != "[]" {
		t.Errorf("empty list = %s, want []", got)
	}

	body := map[string]any{"name": "backend", "targets": []map[string]any{{"url": "http://127.0.0.1:9999", "weight": 1}}}
	resp := tp.do("POST", base, body, http.StatusCreated)
	if got := resp.header.Get("Location"); got != base+"/backend" {
		t.Errorf("Location = %q, want %s/backend", got, base)
	}
	checkProblem(t, tp.send(request{method: "POST", path: base, body: body}), http.StatusConflict, "")

	got := string(tp.do("GET", base+"/backend", nil, http.StatusOK).body)
	if want := `{"name":"backend","targets":[{"url":"http://127.0.0.1:9999","weight":1}]}`; got != want {
		t.Errorf("GET = %s, want %s", got, want)
	}

	replacement := map[string]any{"targets": []map[string]any{{"url": "https://127.0.0.1:8443", "weight": 3}, {"url": "http://127.0.0.1:8080"}}}
	tp.do("PUT", base+"/backend", replacement, http.StatusOK)
	got = string(tp.do("GET", base, nil, http.StatusOK).body)
	if want := `[{"name":"backend","targets":[{"url":"https://127.0.0.1:8443","weight":3},{"url":"http://127.0.0.1:8080","weight":0}]}]`; got != want {
		t.Errorf("list after PUT = %s, want %s", got, want)
	}

	tp.do("DELETE", base+"/backend", nil, http.StatusNoContent)
	checkProblem(t, tp.send(request{method: "GET", path: base + "/backend"}), http.StatusNotFound, "")
	if got := tp.revision("acme"); got != 4 {
		t.Errorf("revision after create, update, delete = %d, want 4", got)
	}
}

func TestRouteCRUD(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	base := "/api/v1/tenants/acme/routes"
	tp.do("POST", "/api/v1/tenants/acme/upstreams", map[string]any{"name": "other", "targets": []map[string]any{{"url": "http://127.0.0.1:7000"}}}, http.StatusCreated)

	tp.do("POST", base, map[string]any{"name": "api", "paths": []string{"/api", "/v2"}, "upstream": "backend"}, http.StatusCreated)
	got := string(tp.do("GET", base+"/api", nil, http.StatusOK).body)
	if want := `{"name":"api","paths":["/api","/v2"],"methods":[],"upstream":"backend"}`; got != want {
		t.Errorf("GET = %s, want %s", got, want)
	}

	tp.do("PUT", base+"/api", map[string]any{"name": "api", "paths": []string{"/api"}, "methods": []string{"DELETE"}, "upstream": "other"}, http.StatusOK)
	list := decodeInto[[]map[string]any](t, tp.do("GET", base, nil, http.StatusOK))
	if len(list) != 2 || list[0]["name"] != "all" || list[1]["upstream"] != "other" {
		t.Errorf("list = %v, want all, then api on upstream other", list)
	}

	tp.do("DELETE", base+"/api", nil, http.StatusNoContent)
	checkProblem(t, tp.send(request{method: "GET", path: base + "/api"}), http.StatusNotFound, "")
	tp.do("DELETE", "/api/v1/tenants/acme/upstreams/other", nil, http.StatusNoContent)
}

func TestPluginCRUD(t *testing.T) {
	tp := startPortal(t)

	if got := string(tp.do("GET", "/api/v1/plugins", nil, http.StatusOK).body); got != `{"plugins":[],"page":1,"total":0,"has_more":false}` {
		t.Errorf("empty catalogue = %s, want no plugins", got)
	}

	resp := tp.do("POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": "let a = 1"}, http.StatusCreated)
	if got := resp.header.Get("Location"); got != "/api/v1/plugins/hello/versions/1.0.0" {
		t.Errorf("Location = %q, want /api/v1/plugins/hello/versions/1.0.0", got)
	}
	published := decodeInto[map[string]any](t, resp)
	if schema, _ := json.Marshal(published["config_schema"]); string(schema) != `{"type":"object"}` {
		t.Errorf("default config_schema = %s, want {\"type\":\"object\"}", schema)
	}
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.1.0-beta.1+build.7", "source": "let a = 2", "config_schema": map[string]any{"type": "object"}}, http.StatusCreated)

	got := string(tp.do("GET", "/api/v1/plugins", nil, http.StatusOK).body)
	// A pre-release is not the latest version while a release exists.
	if want := `{"plugins":[{"name":"hello","namespace":"portcullis","latest_version":"1.0.0","description":"","installs":0}],"page":1,"total":1,"has_more":false}`; got != want {
		t.Errorf("catalogue = %s, want %s", got, want)
	}

	plugin := decodeInto[map[string]any](t, tp.do("GET", "/api/v1/plugins/hello", nil, http.StatusOK))
	versions, _ := plugin["versions"].([]any)
	if len(versions) != 2 || strings.Contains(string(tp.do("GET", "/api/v1/plugins/hello", nil, http.StatusOK).body), `"source"`) {
		t.Errorf("plugin = %v, want two versions without source", plugin)
	}

	version := decodeInto[map[string]any](t, tp.do("GET", "/api/v1/plugins/hello/versions/1.1.0-beta.1+build.7", nil, http.StatusOK))
	if version["source"] != "let a = 2" || version["sha256"] == "" {
		t.Errorf("version = %v, want its source and sha256", version)
	}

	tp.do("DELETE", "/api/v1/plugins/hello/versions/1.0.0", nil, http.StatusNoContent)
	checkProblem(t, tp.send(request{method: "GET", path: "/api/v1/plugins/hello/versions/1.0.0"}), http.StatusNotFound, "")
	tp.do("DELETE", "/api/v1/plugins/hello/versions/1.1.0-beta.1+build.7", nil, http.StatusNoContent)
	checkProblem(t, tp.send(request{method: "GET", path: "/api/v1/plugins/hello"}), http.StatusNotFound, "")
}

func TestBindingCRUD(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	base := "/api/v1/tenants/acme/bindings"

	if got := string(tp.do("GET", base, nil, http.StatusOK).body); got != "[]" {
		t.Errorf("empty list = %s, want []", got)
	}

	id := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "hi"}})
	everyRoute := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.1.0", "config": map[string]any{"greeting": "yo"}})

	got := string(tp.do("GET", base+"/"+id, nil, http.StatusOK).body)
	if want := `{"id":"` + id + `","plugin":"hello","version":"1.0.0","route":"all","config":{"greeting":"hi"}}`; got != want {
		t.Errorf("GET = %s, want %s", got, want)
	}

	tests := []struct {
		name  string
		patch map[string]any
		want  string
	}{
		{"version", map[string]any{"version": "1.1.0"}, `"version":"1.1.0","route":"all","config":{"greeting":"hi"}`},
		{"config", map[string]any{"config": map[string]any{"greeting": "hello"}}, `"version":"1.1.0","route":"all","config":{"greeting":"hello"}`},
		{"route to every route", map[string]any{"route": ""}, `"version":"1.1.0","route":"","config":{"greeting":"hello"}`},
		{"all three", map[string]any{"version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "x"}}, `"version":"1.0.0","route":"all","config":{"greeting":"x"}`},
	}
	for _, tt := range tests {
		t.Run("patch "+tt.name, func(t *testing.T) {
			resp := tp.do("PATCH", base+"/"+id, tt.patch, http.StatusOK)
			if !strings.Contains(string(resp.body), tt.want) {
				t.Errorf("PATCH response = %s, want it to contain %s", resp.body, tt.want)
			}
			if got := tp.do("GET", base+"/"+id, nil, http.StatusOK).body; string(got) != string(resp.body) {
				t.Errorf("GET after PATCH = %s, want %s", got, resp.body)
			}
		})
	}

	list := decodeInto[[]map[string]any](t, tp.do("GET", base, nil, http.StatusOK))
	if len(list) != 2 || list[0]["id"] != id || list[1]["id"] != everyRoute {
		t.Errorf("list = %v, want creation order %s, %s", list, id, everyRoute)
	}

	tp.do("DELETE", base+"/"+id, nil, http.StatusNoContent)
	checkProblem(t, tp.send(request{method: "GET", path: base + "/" + id}), http.StatusNotFound, "")
	checkProblem(t, tp.send(request{method: "DELETE", path: base + "/" + id}), http.StatusNotFound, "")
}

func TestDeleteTenantDeletesResources(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "hi"}})
	checkProblem(t, tp.send(request{method: "DELETE", path: "/api/v1/plugins/hello/versions/1.0.0"}), http.StatusConflict, "")

	tp.do("DELETE", "/api/v1/tenants/acme", nil, http.StatusNoContent)

	for _, path := range []string{"/api/v1/tenants/acme/upstreams", "/api/v1/tenants/acme/routes", "/api/v1/tenants/acme/bindings"} {
		checkProblem(t, tp.send(request{method: "GET", path: path}), http.StatusNotFound, "")
	}
	tp.do("DELETE", "/api/v1/plugins/hello/versions/1.0.0", nil, http.StatusNoContent)

	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme again"}, http.StatusCreated)
	if got := string(tp.do("GET", "/api/v1/tenants/acme/routes", nil, http.StatusOK).body); got != "[]" {
		t.Errorf("routes of recreated tenant = %s, want []", got)
	}
}

func TestDeleteInUseNamesDependents(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	id := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "hi"}})

	tests := []struct {
		name          string
		path          string
		wantDependent string
	}{
		{"upstream used by route", "/api/v1/tenants/acme/upstreams/backend", `route "all"`},
		{"route used by binding", "/api/v1/tenants/acme/routes/all", `binding "` + id + `"`},
		{"plugin version used by binding", "/api/v1/plugins/hello/versions/1.0.0", `binding "` + id + `" of tenant "acme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkProblem(t, tp.send(request{method: "DELETE", path: tt.path}), http.StatusConflict, "")

			if len(got.Dependents) != 1 || got.Dependents[0] != tt.wantDependent {
				t.Errorf("dependents = %q, want [%s]", got.Dependents, tt.wantDependent)
			}
			if !strings.Contains(got.Detail, tt.wantDependent) {
				t.Errorf("detail = %q, want it to name %s", got.Detail, tt.wantDependent)
			}
		})
	}
}
