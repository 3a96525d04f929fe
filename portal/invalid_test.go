package portal_test

import (
	"net/http"
	"strings"
	"testing"
)

// state captures everything a rejected request must leave unchanged.
func (tp *testPortal) state() string {
	tp.t.Helper()

	var parts []string
	for _, path := range []string{
		"/api/v1/tenants",
		"/api/v1/tenants/acme/upstreams",
		"/api/v1/tenants/acme/routes",
		"/api/v1/tenants/acme/bindings",
		"/api/v1/tenants/acme/installs",
		"/api/v1/plugins",
		"/api/v1/plugins/hello",
	} {
		parts = append(parts, string(tp.do("GET", path, nil, http.StatusOK).body))
	}
	return strings.Join(parts, "\n")
}

func TestInvalidInputIsRejectedAndChangesNothing(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	id := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "hi"}})
	binding := "/api/v1/tenants/acme/bindings/" + id
	oversize := `{"slug":"big","name":"` + strings.Repeat("x", 2<<20) + `"}`

	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		contentType string
		wantStatus  int
		wantField   string
	}{
		// Body format, checked the same way by every endpoint with a body.
		{"invalid JSON", "POST", "/api/v1/tenants", `{"slug":`, "", 400, ""},
		{"syntax error", "POST", "/api/v1/tenants", `{"slug" "acme"}`, "", 400, ""},
		{"empty body", "POST", "/api/v1/tenants", ` `, "", 400, ""},
		{"two objects", "POST", "/api/v1/tenants", `{"slug":"b","name":"B"}{}`, "", 400, ""},
		{"array body", "POST", "/api/v1/tenants", `[]`, "", 422, "body"},
		{"unknown field", "POST", "/api/v1/tenants", `{"slug":"b","name":"B","owner":"x"}`, "", 422, "owner"},
		{"unknown nested field", "POST", "/api/v1/tenants/acme/apply?dry_run=true", `{"routes":[{"name":"a","paths":["/a"],"upstream":"backend"},{"name":"b","paths":["/b"],"upstream":"backend","colour":"red"}]}`, "", 422, "routes[1].colour"},
		{"wrong type", "POST", "/api/v1/tenants", `{"slug":"b","name":5}`, "", 422, "name"},
		{"field name in other case", "POST", "/api/v1/tenants", `{"Slug":"b","name":"B"}`, "", 422, "Slug"},
		{"duplicate field", "POST", "/api/v1/tenants", `{"slug":"b","name":"B","slug":"c"}`, "", 422, "slug"},
		{"nested field in other case", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"n","targets":[{"URL":"http://127.0.0.1:1"}]}`, "", 422, "targets[0].URL"},
		{"duplicate key in config", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"1.0.0","config":{"a":1,"a":2}}`, "", 422, "config.a"},
		{"text content type", "POST", "/api/v1/tenants", `{"slug":"b","name":"B"}`, "text/plain", 415, "Content-Type"},
		{"form content type", "PUT", "/api/v1/tenants/acme", `name=x`, "application/x-www-form-urlencoded", 415, "Content-Type"},
		{"oversize body", "POST", "/api/v1/tenants", oversize, "", 413, ""},

		// Tenants.
		{"tenant bad slug", "POST", "/api/v1/tenants", `{"slug":"Not_A_Slug","name":"X"}`, "", 422, "slug"},
		{"tenant missing name", "POST", "/api/v1/tenants", `{"slug":"beta"}`, "", 422, "name"},
		{"tenant duplicate", "POST", "/api/v1/tenants", `{"slug":"acme","name":"Again"}`, "", 409, ""},
		{"tenant slug change", "PUT", "/api/v1/tenants/acme", `{"slug":"other","name":"X"}`, "", 422, "slug"},
		{"tenant blank name", "PUT", "/api/v1/tenants/acme", `{"name":"  "}`, "", 422, "name"},
		{"tenant update unknown", "PUT", "/api/v1/tenants/nobody", `{"name":"X"}`, "", 404, ""},
		{"tenant get unknown", "GET", "/api/v1/tenants/nobody", ``, "", 404, ""},
		{"tenant delete unknown", "DELETE", "/api/v1/tenants/nobody", ``, "", 404, ""},

		// Upstreams.
		{"upstream no targets", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[]}`, "", 422, "targets"},
		{"upstream bad url", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"ftp://x"}]}`, "", 422, "targets[0].url"},
		{"upstream bad weight", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1","weight":5000}]}`, "", 422, "targets[0].weight"},
		{"upstream weight type", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1","weight":"1"}]}`, "", 422, "targets.weight"},
		{"upstream unknown nested field", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1","wieght":1}]}`, "", 422, "targets[0].wieght"},
		{"upstream bad name", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"no spaces","targets":[{"url":"http://127.0.0.1:1"}]}`, "", 422, "name"},
		{"upstream duplicate", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"backend","targets":[{"url":"http://127.0.0.1:1"}]}`, "", 409, ""},
		{"upstream in unknown tenant", "POST", "/api/v1/tenants/nobody/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}]}`, "", 404, ""},
		{"upstream rename", "PUT", "/api/v1/tenants/acme/upstreams/backend", `{"name":"renamed","targets":[{"url":"http://127.0.0.1:1"}]}`, "", 422, "name"},
		{"upstream update bad url", "PUT", "/api/v1/tenants/acme/upstreams/backend", `{"targets":[{"url":"http://u:p@127.0.0.1:1"}]}`, "", 422, "targets[0].url"},
		{"upstream update unknown", "PUT", "/api/v1/tenants/acme/upstreams/nope", `{"targets":[{"url":"http://127.0.0.1:1"}]}`, "", 404, ""},
		{"upstream delete in use", "DELETE", "/api/v1/tenants/acme/upstreams/backend", ``, "", 409, ""},
		{"upstream get unknown", "GET", "/api/v1/tenants/acme/upstreams/nope", ``, "", 404, ""},
		{"upstream duplicate target", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"},{"url":"http://127.0.0.1:1"}]}`, "", 422, "targets[1].url"},
		{"upstream unknown balance", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"balance":"random"}`, "", 422, "balance"},
		{"upstream hash_on without hashing", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"hash_on":"header","hash_key":"X-User"}`, "", 422, "hash_on"},
		{"upstream unknown hash_on", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"balance":"consistent_hash","hash_on":"path"}`, "", 422, "hash_on"},
		{"upstream header hash without key", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"balance":"consistent_hash","hash_on":"header"}`, "", 422, "hash_key"},
		{"upstream hash_key with space", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"balance":"consistent_hash","hash_on":"cookie","hash_key":"my session"}`, "", 422, "hash_key"},
		{"upstream hash_key on client_addr", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"balance":"consistent_hash","hash_key":"X-User"}`, "", 422, "hash_key"},
		{"upstream retries above max", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"retries":6}`, "", 422, "retries"},
		{"upstream negative retries", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"retries":-1}`, "", 422, "retries"},
		{"upstream retries type", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"retries":"2"}`, "", 422, "retries"},
		{"upstream unknown protocol", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"protocol":"h3"}`, "", 422, "protocol"},
		{"upstream h2 with http target", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"protocol":"h2"}`, "", 422, "targets[0].url"},
		{"upstream h2c with https target", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"protocol":"h2c"}`, "", 422, "targets[0].url"},
		{"upstream ca not PEM", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"tls":{"ca_pem":"not a certificate"}}`, "", 422, "tls.ca_pem"},
		{"upstream client cert without key", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"tls":{"client_cert_pem":"-----BEGIN CERTIFICATE-----"}}`, "", 422, "tls.client_key_pem"},
		{"upstream client key without cert", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"tls":{"client_key_pem":"-----BEGIN PRIVATE KEY-----"}}`, "", 422, "tls.client_cert_pem"},
		{"upstream client key not PEM", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"tls":{"client_cert_pem":"x","client_key_pem":"secret"}}`, "", 422, "tls.client_key_pem"},
		{"upstream bad server name", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"tls":{"server_name":"https://api.internal"}}`, "", 422, "tls.server_name"},
		{"upstream unknown tls field", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"tls":{"verify":false}}`, "", 422, "tls.verify"},
		{"upstream check path relative", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"active":{"path":"healthz"}}}`, "", 422, "health_check.active.path"},
		{"upstream check path with host", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"active":{"path":"//evil.example/x"}}}`, "", 422, "health_check.active.path"},
		{"upstream check interval too short", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"active":{"interval_ms":10}}}`, "", 422, "health_check.active.interval_ms"},
		{"upstream check timeout above interval", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"active":{"interval_ms":1000,"timeout_ms":1000}}}`, "", 422, "health_check.active.timeout_ms"},
		{"upstream healthy threshold", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"active":{"healthy_threshold":11}}}`, "", 422, "health_check.active.healthy_threshold"},
		{"upstream unhealthy threshold", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"active":{"unhealthy_threshold":-1}}}`, "", 422, "health_check.active.unhealthy_threshold"},
		{"upstream expected status", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"active":{"expected_statuses":[200,700]}}}`, "", 422, "health_check.active.expected_statuses[1]"},
		{"upstream passive failures", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"passive":{"max_failures":101}}}`, "", 422, "health_check.passive.max_failures"},
		{"upstream passive window", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"passive":{"window_ms":50}}}`, "", 422, "health_check.passive.window_ms"},
		{"upstream passive cooldown", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"passive":{"cooldown_ms":3600001}}}`, "", 422, "health_check.passive.cooldown_ms"},
		{"upstream unknown check kind", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"http://127.0.0.1:1"}],"health_check":{"activ":{}}}`, "", 422, "health_check.activ"},
		{"upstream key set on create", "POST", "/api/v1/tenants/acme/upstreams", `{"name":"u2","targets":[{"url":"https://127.0.0.1:1"}],"tls":{"client_cert_pem":"x","client_key_set":true}}`, "", 422, "tls.client_key_pem"},
		{"upstream update key set without key", "PUT", "/api/v1/tenants/acme/upstreams/backend", `{"targets":[{"url":"https://127.0.0.1:1"}],"tls":{"client_cert_pem":"x","client_key_set":true}}`, "", 422, "tls.client_key_pem"},
		{"upstream update bad balance", "PUT", "/api/v1/tenants/acme/upstreams/backend", `{"targets":[{"url":"http://127.0.0.1:1"}],"balance":"least"}`, "", 422, "balance"},

		// Routes.
		{"route missing upstream", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"nope"}`, "", 422, "upstream"},
		{"route no paths", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":[],"upstream":"backend"}`, "", 422, "paths"},
		{"route relative path", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["api"],"upstream":"backend"}`, "", 422, "paths[0]"},
		{"route bad method", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"methods":["get"],"upstream":"backend"}`, "", 422, "methods[0]"},
		{"route paths type", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":"/","upstream":"backend"}`, "", 422, "paths"},
		{"route duplicate", "POST", "/api/v1/tenants/acme/routes", `{"name":"all","paths":["/"],"upstream":"backend"}`, "", 409, ""},
		{"route update missing upstream", "PUT", "/api/v1/tenants/acme/routes/all", `{"paths":["/"],"upstream":"nope"}`, "", 422, "upstream"},
		{"route rename", "PUT", "/api/v1/tenants/acme/routes/all", `{"name":"x","paths":["/"],"upstream":"backend"}`, "", 422, "name"},
		{"route delete in use", "DELETE", "/api/v1/tenants/acme/routes/all", ``, "", 409, ""},
		{"route get unknown", "GET", "/api/v1/tenants/acme/routes/nope", ``, "", 404, ""},
		{"route connect timeout too short", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","timeouts":{"connect_ms":5}}`, "", 422, "timeouts.connect_ms"},
		{"route header timeout too long", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","timeouts":{"response_header_ms":600001}}`, "", 422, "timeouts.response_header_ms"},
		{"route idle timeout negative", "PUT", "/api/v1/tenants/acme/routes/all", `{"paths":["/"],"upstream":"backend","timeouts":{"idle_ms":-1}}`, "", 422, "timeouts.idle_ms"},
		{"route unknown timeout", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","timeouts":{"read_ms":5}}`, "", 422, "timeouts.read_ms"},
		{"route bad parameter", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/users/{id"],"upstream":"backend"}`, "", 422, "paths[0]"},
		{"route exact with parameter", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["=/users/{id}"],"upstream":"backend"}`, "", 422, "paths[0]"},
		{"route catch-all not last", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/f/{p...}/x"],"upstream":"backend"}`, "", 422, "paths[0]"},
		{"route host with port", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","hosts":["a.example:80"]}`, "", 422, "hosts[0]"},
		{"route header bad name", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","headers":[{"name":"X Env"}]}`, "", 422, "headers[0].name"},
		{"route header unknown key", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","headers":[{"name":"X-Env","regex":"b.*"}]}`, "", 422, "headers[0].regex"},
		{"route query missing name", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","query":[{"value":"1"}]}`, "", 422, "query[0].name"},
		{"route priority range", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","priority":100001}`, "", 422, "priority"},
		{"route priority type", "POST", "/api/v1/tenants/acme/routes", `{"name":"r2","paths":["/"],"upstream":"backend","priority":"high"}`, "", 422, "priority"},
		{"route body limit negative", "PUT", "/api/v1/tenants/acme/routes/all", `{"paths":["/"],"upstream":"backend","max_body_bytes":-1}`, "", 422, "max_body_bytes"},
		{"route body limit too large", "PUT", "/api/v1/tenants/acme/routes/all", `{"paths":["/"],"upstream":"backend","max_body_bytes":1073741825}`, "", 422, "max_body_bytes"},
		{"route list bad limit", "GET", "/api/v1/tenants/acme/routes?limit=0", ``, "", 422, "limit"},
		{"route list long name filter", "GET", "/api/v1/tenants/acme/routes?name=" + strings.Repeat("n", 64), ``, "", 422, "name"},

		// Plugins.
		{"plugin compile error", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0.0","source":"let x = 1\nsyntax error"}`, "", 422, "source"},
		{"plugin empty source", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0.0","source":""}`, "", 422, "source"},
		{"plugin bad version", "POST", "/api/v1/plugins", `{"name":"bad","version":"v1","source":"x"}`, "", 422, "version"},
		{"plugin bad name", "POST", "/api/v1/plugins", `{"name":"","version":"1.0.0","source":"x"}`, "", 422, "name"},
		{"plugin invalid schema", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0.0","source":"x","config_schema":{"type":"objekt"}}`, "", 422, "config_schema.type"},
		{"plugin schema for a string", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0.0","source":"x","config_schema":{"type":"string"}}`, "", 422, "config_schema.type"},
		{"plugin schema type", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0.0","source":"x","config_schema":7}`, "", 422, "config_schema"},
		{"plugin duplicate version", "POST", "/api/v1/plugins", `{"name":"hello","version":"1.0.0","source":"other"}`, "", 409, ""},
		{"plugin version in use", "DELETE", "/api/v1/plugins/hello/versions/1.0.0", ``, "", 409, ""},
		{"plugin version unknown", "DELETE", "/api/v1/plugins/hello/versions/9.9.9", ``, "", 404, ""},
		{"plugin get unknown", "GET", "/api/v1/plugins/nope", ``, "", 404, ""},

		// Marketplace.
		{"plugin namespace unknown", "POST", "/api/v1/plugins", `{"name":"nobody/x","version":"1.0.0","source":"x"}`, "", 422, "name"},
		{"plugin namespace invalid", "POST", "/api/v1/plugins", `{"name":"No_Such/x","version":"1.0.0","source":"x"}`, "", 422, "name"},
		{"plugin name reserved", "POST", "/api/v1/plugins", `{"name":"versions","version":"1.0.0","source":"x"}`, "", 422, "name"},
		{"plugin name two slashes", "POST", "/api/v1/plugins", `{"name":"a/b/c","version":"1.0.0","source":"x"}`, "", 422, "name"},
		{"plugin version empty pre-release", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0.0-","source":"x"}`, "", 422, "version"},
		{"plugin version two parts", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0","source":"x"}`, "", 422, "version"},
		{"plugin description too long", "POST", "/api/v1/plugins", `{"name":"bad","version":"1.0.0","source":"x","description":"` + strings.Repeat("d", 1025) + `"}`, "", 422, "description"},
		{"plugin republish under full name", "POST", "/api/v1/plugins", `{"name":"portcullis/hello","version":"1.0.0","source":"other"}`, "", 409, ""},
		{"plugin deprecate unknown version", "POST", "/api/v1/plugins/hello/versions/9.9.9/deprecate", ``, "", 404, ""},
		{"plugin yank unknown plugin", "POST", "/api/v1/plugins/nope/versions/1.0.0/yank", ``, "", 404, ""},
		{"plugin yank unknown namespace", "POST", "/api/v1/plugins/nobody/x/versions/1.0.0/yank", ``, "", 422, "name"},
		{"plugin deprecate long notice", "POST", "/api/v1/plugins/hello/versions/1.0.0/deprecate", `{"notice":"` + strings.Repeat("n", 1025) + `"}`, "", 422, "notice"},
		{"plugin deprecate unknown field", "POST", "/api/v1/plugins/hello/versions/1.0.0/deprecate", `{"reason":"x"}`, "", 422, "reason"},
		{"plugin stats unknown", "GET", "/api/v1/plugins/nope/stats", ``, "", 404, ""},
		{"plugin browse bad page", "GET", "/api/v1/plugins?page=x", ``, "", 422, "page"},
		{"plugin browse page too high", "GET", "/api/v1/plugins?page=1001", ``, "", 422, "page"},
		{"plugin browse long query", "GET", "/api/v1/plugins?q=" + strings.Repeat("q", 101), ``, "", 422, "q"},
		{"plugin browse bad namespace", "GET", "/api/v1/plugins?namespace=No_Such", ``, "", 422, "namespace"},
		{"namespace as operator", "POST", "/api/v1/namespaces", `{"name":"ops"}`, "", 403, ""},
		{"namespace unknown", "GET", "/api/v1/namespaces/nobody", ``, "", 404, ""},

		// Installs.
		{"install neither version nor range", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"hello"}`, "", 422, "version"},
		{"install version and range", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"hello","version":"1.0.0","range":"^1"}`, "", 422, "range"},
		{"install unsupported range", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"hello","range":">=1.0"}`, "", 422, "range"},
		{"install range without match", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"hello","range":"^7"}`, "", 422, "range"},
		{"install unknown plugin", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"nope","version":"1.0.0"}`, "", 422, "plugin"},
		{"install unpublished version", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"hello","version":"9.0.0"}`, "", 422, "version"},
		{"install bad plugin name", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"A/b","version":"1.0.0"}`, "", 422, "plugin"},
		{"install unknown field", "POST", "/api/v1/tenants/acme/installs", `{"plugin":"hello","version":"1.0.0","pin":true}`, "", 422, "pin"},
		{"install in unknown tenant", "POST", "/api/v1/tenants/nobody/installs", `{"plugin":"hello","version":"1.0.0"}`, "", 404, ""},
		{"install update unknown", "PUT", "/api/v1/tenants/acme/installs/hello", `{"version":"1.0.0"}`, "", 404, ""},
		{"install update other plugin", "PUT", "/api/v1/tenants/acme/installs/hello", `{"plugin":"other","version":"1.0.0"}`, "", 422, "plugin"},
		{"install rollback unknown", "POST", "/api/v1/tenants/acme/installs/hello/rollback", ``, "", 404, ""},
		{"install get unknown", "GET", "/api/v1/tenants/acme/installs/acme/x", ``, "", 404, ""},
		{"install delete unknown", "DELETE", "/api/v1/tenants/acme/installs/hello", ``, "", 404, ""},
		{"binding without version or install", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","config":{"greeting":"x"}}`, "", 422, "version"},

		// Try.
		{"try bad method", "POST", "/api/v1/tenants/acme/routes/all/try", `{"method":"get"}`, "", 422, "method"},
		{"try relative path", "POST", "/api/v1/tenants/acme/routes/all/try", `{"path":"items"}`, "", 422, "path"},
		{"try query with question mark", "POST", "/api/v1/tenants/acme/routes/all/try", `{"query":"?a=1"}`, "", 422, "query"},
		{"try bad header name", "POST", "/api/v1/tenants/acme/routes/all/try", `{"headers":{"X Bad":"1"}}`, "", 422, "headers.X Bad"},
		{"try unknown field", "POST", "/api/v1/tenants/acme/routes/all/try", `{"url":"/"}`, "", 422, "url"},
		{"try unknown route", "POST", "/api/v1/tenants/acme/routes/nope/try", `{}`, "", 404, ""},

		// Bindings.
		{"binding unknown plugin", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"nope","version":"1.0.0"}`, "", 422, "plugin"},
		{"binding unpublished version", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"2.0.0","config":{"greeting":"x"}}`, "", 422, "version"},
		{"binding bad version", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"latest"}`, "", 422, "version"},
		{"binding missing route", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"1.0.0","route":"nope","config":{"greeting":"x"}}`, "", 422, "route"},
		{"binding config wrong type", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"1.0.0","config":{"greeting":5}}`, "", 422, "config.greeting"},
		{"binding config missing field", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"1.0.0","config":{}}`, "", 422, "config.greeting"},
		{"binding config extra field", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"1.0.0","config":{"greeting":"x","extra":1}}`, "", 422, "config.extra"},
		{"binding config not object", "POST", "/api/v1/tenants/acme/bindings", `{"plugin":"hello","version":"1.0.0","config":["x"]}`, "", 422, "config"},
		{"binding id in body", "POST", "/api/v1/tenants/acme/bindings", `{"id":"mine","plugin":"hello","version":"1.0.0","config":{"greeting":"x"}}`, "", 422, "id"},
		{"binding patch plugin", "PATCH", binding, `{"plugin":"other"}`, "", 422, "plugin"},
		{"binding patch empty", "PATCH", binding, `{}`, "", 422, "body"},
		{"binding patch bad config", "PATCH", binding, `{"config":{"greeting":false}}`, "", 422, "config.greeting"},
		{"binding patch missing route", "PATCH", binding, `{"route":"nope"}`, "", 422, "route"},
		{"binding patch unpublished version", "PATCH", binding, `{"version":"3.0.0"}`, "", 422, "version"},
		{"binding patch unknown id", "PATCH", "/api/v1/tenants/acme/bindings/bnd_0000000000000000", `{"version":"1.1.0"}`, "", 404, ""},
		{"binding get unknown", "GET", "/api/v1/tenants/acme/bindings/nope", ``, "", 404, ""},
		{"binding delete unknown", "DELETE", "/api/v1/tenants/acme/bindings/nope", ``, "", 404, ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			revisionBefore := tp.revision("acme")
			stateBefore := tp.state()
			changesBefore := len(tp.changes.snapshot())

			var body any
			if tt.body != "" {
				body = tt.body
			}
			resp := tp.send(request{method: tt.method, path: tt.path, body: body, contentType: tt.contentType})

			checkProblem(t, resp, tt.wantStatus, tt.wantField)
			if got := tp.revision("acme"); got != revisionBefore {
				t.Errorf("revision = %d, want unchanged %d", got, revisionBefore)
			}
			if got := tp.state(); got != stateBefore {
				t.Errorf("resources changed:\nbefore %s\nafter  %s", stateBefore, got)
			}
			if got := len(tp.changes.snapshot()); got != changesBefore {
				t.Errorf("ChangeFunc calls = %d, want unchanged %d", got, changesBefore)
			}
		})
	}
}

func TestCompileErrorCarriesLine(t *testing.T) {
	tp := startPortal(t)

	resp := tp.send(request{method: "POST", path: "/api/v1/plugins", body: map[string]any{
		"name": "bad", "version": "1.0.0", "source": "let a = 1\nlet b = 2\n    syntax error\n",
	}})

	got := checkProblem(t, resp, http.StatusUnprocessableEntity, "source")
	if len(got.Errors) != 1 {
		t.Fatalf("errors = %+v, want one", got.Errors)
	}
	if got.Errors[0].Line != 3 || got.Errors[0].Column != 5 {
		t.Errorf("position = line %d column %d, want line 3 column 5", got.Errors[0].Line, got.Errors[0].Column)
	}
	if !strings.Contains(got.Errors[0].Message, "unexpected token") || !strings.Contains(got.Detail, "line 3") {
		t.Errorf("problem = %+v, want the compiler's message and line", got)
	}
}

func TestSchemaErrorsNameEachField(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")

	resp := tp.send(request{method: "POST", path: "/api/v1/tenants/acme/bindings", body: `{"plugin":"hello","version":"1.0.0","config":{"greeting":1,"extra":true}}`})

	got := checkProblem(t, resp, http.StatusUnprocessableEntity, "config.greeting")
	var fields []string
	for _, item := range got.Errors {
		fields = append(fields, item.Field)
	}
	if strings.Join(fields, ",") != "config.extra,config.greeting" {
		t.Errorf("fields = %q, want config.extra and config.greeting", fields)
	}
}
