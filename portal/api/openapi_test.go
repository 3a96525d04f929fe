package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestOpenAPIListsEveryRoute(t *testing.T) {
	w := startWalkServer(t, filepath.Join(t.TempDir(), "portal.db"))

	if missing := undocumented(w.app, operations()); len(missing) > 0 {
		t.Errorf("routes missing from the OpenAPI document (add them to operations):\n%s", strings.Join(missing, "\n"))
	}
}

// openAPISchemas compiles the response schemas of a served OpenAPI document.
type openAPISchemas struct {
	t        *testing.T
	compiler *jsonschema.Compiler
	doc      map[string]any
}

func loadOpenAPI(t *testing.T, w *walkServer) *openAPISchemas {
	t.Helper()
	data := w.must("", "GET", "/api/v1/openapi.json", nil, http.StatusOK)

	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode openapi.json: %v", err)
	}
	if version := doc.(map[string]any)["openapi"]; version != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", version)
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	if err := compiler.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	return &openAPISchemas{t: t, compiler: compiler, doc: doc.(map[string]any)}
}

// check validates body against the schema that the document gives for the
// operation's status, or its default (problem) response.
func (s *openAPISchemas) check(method, pattern string, status int, body []byte) {
	s.t.Helper()
	path := openAPIPath(pattern)
	operation, ok := s.doc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if !ok {
		s.t.Errorf("%s %s is not in the document", method, path)
		return
	}

	response, media := strconv.Itoa(status), "application/json"
	if _, listed := operation["responses"].(map[string]any)[response]; !listed {
		response, media = "default", "application/problem+json"
	}
	pointer := "/paths/" + escapePointer(path) + "/" + strings.ToLower(method) + "/responses/" + response + "/content/" + escapePointer(media) + "/schema"
	schema, err := s.compiler.Compile("openapi.json#" + pointer)
	if err != nil {
		s.t.Errorf("%s %s %d: compile %s: %v", method, path, status, pointer, err)
		return
	}

	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		s.t.Errorf("%s %s %d: body is not JSON: %v", method, path, status, err)
		return
	}
	if err := schema.Validate(value); err != nil {
		s.t.Errorf("%s %s %d: the response does not match the document: %v\nbody %s", method, path, status, err, body)
	}
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func TestOpenAPIMatchesResponses(t *testing.T) {
	w := startWalkServer(t, filepath.Join(t.TempDir(), "portal.db"))
	schemas := loadOpenAPI(t, w)
	w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": "func access(ctx, conf) {}\n"}, http.StatusCreated)
	f := w.seedWalkTenant("alpha", "alpha@example.com")
	base := "/api/v1/tenants/alpha"

	export := w.must(f.token, "GET", base+"/export", nil, http.StatusOK)
	var doc map[string]any
	if err := json.Unmarshal(export, &doc); err != nil {
		t.Fatal(err)
	}

	calls := []struct {
		token, method, pattern, path string
		body                         any
		status                       int
	}{
		{"", "GET", "/healthz", "/healthz", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/me", "/api/v1/me", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tokens", "/api/v1/tokens", nil, http.StatusOK},
		{f.token, "POST", "/api/v1/tokens", "/api/v1/tokens", map[string]any{"name": "ci"}, http.StatusCreated},
		{f.token, "GET", "/api/v1/tenants", "/api/v1/tenants", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug", base, nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/upstreams", base + "/upstreams", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/upstreams/:name", base + "/upstreams/alpha-up", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/routes", base + "/routes", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/routes/:name", base + "/routes/alpha-route", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/routes/:name", base + "/routes/nowhere", nil, http.StatusNotFound},
		{f.token, "GET", "/api/v1/tenants/:slug/bindings", base + "/bindings", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/bindings/:id", base + "/bindings/" + f.binding, nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/consumers", base + "/consumers", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/consumers/:name", base + "/consumers/alpha-up", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/consumers/:name/credentials", base + "/consumers/alpha-up/credentials", nil, http.StatusOK},
		{f.token, "POST", "/api/v1/tenants/:slug/consumers/:name/credentials", base + "/consumers/alpha-up/credentials", map[string]any{"type": "key-auth"}, http.StatusCreated},
		{f.token, "GET", "/api/v1/tenants/:slug/members", base + "/members", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/audit", base + "/audit", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/propagation", base + "/propagation", nil, http.StatusOK},
		{f.token, "GET", "/api/v1/tenants/:slug/export", base + "/export", nil, http.StatusOK},
		{f.token, "POST", "/api/v1/tenants/:slug/apply", base + "/apply?dry_run=true", doc, http.StatusOK},
		{f.token, "POST", "/api/v1/tenants/:slug/routes", base + "/routes", map[string]any{"name": "bad", "paths": []string{"no-slash"}, "upstream": "alpha-up"}, http.StatusUnprocessableEntity},
		{walkOperatorToken, "GET", "/api/v1/edges", "/api/v1/edges", nil, http.StatusOK},
		{walkOperatorToken, "POST", "/api/v1/edge-tokens", "/api/v1/edge-tokens", nil, http.StatusCreated},
		{walkOperatorToken, "GET", "/api/v1/edge-tokens", "/api/v1/edge-tokens", nil, http.StatusOK},
		{walkOperatorToken, "DELETE", "/api/v1/edge-tokens/:id", "/api/v1/edge-tokens/999", nil, http.StatusNotFound},
		{walkOperatorToken, "DELETE", "/api/v1/edges/:node_id", "/api/v1/edges/nowhere", nil, http.StatusNotFound},
		{walkOperatorToken, "GET", "/api/v1/audit", "/api/v1/audit", nil, http.StatusOK},
	}
	for _, call := range calls {
		status, body := w.call(call.token, call.method, call.path, call.body)
		if status != call.status {
			t.Errorf("%s %s: status = %d, want %d; body %s", call.method, call.path, status, call.status, body)
			continue
		}
		schemas.check(call.method, call.pattern, status, body)
	}
}
