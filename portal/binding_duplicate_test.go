package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestConsoleWarnsDuplicateBinding(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	tp.do("POST", "/api/v1/tenants/acme/consumers", map[string]any{"name": "mobile"}, http.StatusCreated)
	web := newWebClient(tp)
	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}})
	formPage := "/ui/tenants/acme/bindings/new?plugin=hello&version=1.1.0"
	fields := func(route, consumer, greeting string) url.Values {
		return url.Values{"plugin": {"hello"}, "version": {"1.1.0"}, "route": {route}, "consumer": {consumer}, "enabled": {"true"}, "config.greeting": {greeting}}
	}
	existing := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "first"}})

	resp := web.submit(formPage, "/ui/tenants/acme/bindings", fields("all", "", "second"))
	body := string(resp.body)
	if resp.status != http.StatusConflict {
		t.Fatalf("duplicate binding: status = %d, want 409 with a warning; body %s", resp.status, body)
	}
	for _, want := range []string{`id="duplicate-warning"`, "Binding " + existing + " already binds hello", `name="confirm_duplicate" value="true"`, "Create anyway", `value="second"`} {
		if !strings.Contains(body, want) {
			t.Errorf("duplicate warning page lacks %s; body %s", want, body)
		}
	}
	if count := bindingCount(t, tp); count != 1 {
		t.Fatalf("bindings after the warning = %d, want 1: the warning must not create one", count)
	}

	confirmed := fields("all", "", "second")
	confirmed.Set("confirm_duplicate", "true")
	resp = web.submit(formPage, "/ui/tenants/acme/bindings", confirmed)
	mustRedirect(t, "create duplicate anyway", resp, "/ui/tenants/acme/bindings")
	if count := bindingCount(t, tp); count != 2 {
		t.Fatalf("bindings after confirming = %d, want 2", count)
	}

	for _, scope := range []struct{ route, consumer string }{{"", ""}, {"", "mobile"}} {
		resp = web.submit(formPage, "/ui/tenants/acme/bindings", fields(scope.route, scope.consumer, "other scope"))
		mustRedirect(t, "binding at route "+scope.route+" consumer "+scope.consumer, resp, "/ui/tenants/acme/bindings")
	}
	if count := bindingCount(t, tp); count != 4 {
		t.Fatalf("bindings after two other scopes = %d, want 4", count)
	}

	web.call("GET", "/ui/tenants/acme/bindings?lang=zh-CN", nil, nil)
	resp = web.submit(formPage, "/ui/tenants/acme/bindings", fields("", "mobile", "again"))
	body = string(resp.body)
	if resp.status != http.StatusConflict || !strings.Contains(body, "仍然创建") || !strings.Contains(body, "已在此作用范围绑定了 hello") {
		t.Errorf("Chinese duplicate warning: status = %d, want 409 with the Chinese warning; body %s", resp.status, body)
	}
}

func bindingCount(t *testing.T, tp *testPortal) int {
	t.Helper()
	return len(decodeInto[[]map[string]any](t, tp.do("GET", "/api/v1/tenants/acme/bindings", nil, http.StatusOK)))
}
