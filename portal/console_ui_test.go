package portal_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// submit opens page for its CSRF token and posts the form to action.
func (w *webClient) submit(page, action string, fields url.Values) response {
	w.tp.t.Helper()
	opened := w.call("GET", page, nil, nil)
	if opened.status != http.StatusOK {
		w.tp.t.Fatalf("GET %s: status = %d, want 200; body %s", page, opened.status, opened.body)
	}
	fields.Set("csrf", csrfOf(w.tp.t, opened))
	return w.call("POST", action, fields, nil)
}

// mustRedirect fails the test unless resp is a 303 to location.
func mustRedirect(t *testing.T, what string, resp response, location string) {
	t.Helper()
	if resp.status != http.StatusSeeOther || resp.header.Get("Location") != location {
		t.Fatalf("%s: status = %d, Location %q, want 303 to %s; body %s", what, resp.status, resp.header.Get("Location"), location, resp.body)
	}
}

// webSignUp signs a new user up through the sign-up form.
func webSignUp(tp *testPortal, email string) *webClient {
	tp.t.Helper()
	web := newWebClient(tp)
	resp := web.submit("/signup", "/signup", url.Values{"email": {email}, "name": {"Ada"}, "password": {testPassword}})
	if resp.status != http.StatusSeeOther || !strings.HasPrefix(resp.header.Get("Location"), "/ui/tenants") {
		tp.t.Fatalf("POST /signup: status = %d, Location %q, want 303 to /ui/tenants; body %s", resp.status, resp.header.Get("Location"), resp.body)
	}
	return web
}

// shaperSchema has a nested object and an input of each scalar kind.
const shaperSchema = `{"type":"object","properties":{
  "greeting":{"type":"string"},
  "verbose":{"type":"boolean","default":false},
  "mode":{"enum":["fast","safe"]},
  "hosts":{"type":"array","items":{"type":"string"}},
  "headers":{"type":"object","additionalProperties":{"type":"string"}},
  "limits":{"type":"object","properties":{"count":{"type":"integer","minimum":1},"ratio":{"type":"number"}},"required":["count"]}
},"required":["greeting"],"additionalProperties":false}`

func TestConsoleBuildsTenantThroughForms(t *testing.T) {
	tp := startPortal(t)
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "shaper", "version": "1.0.0", "source": "// shaper", "config_schema": json.RawMessage(shaperSchema)}, http.StatusCreated)
	web := webSignUp(tp, "ada@example.com")

	resp := web.submit("/ui/tenants", "/ui/tenants", url.Values{"slug": {"shop"}, "name": {"Shop"}})
	mustRedirect(t, "create tenant", resp, "/ui/tenants/shop")

	resp = web.submit("/ui/tenants/shop/upstreams", "/ui/tenants/shop/upstreams", url.Values{"name": {"backend"}, "targets": {"http://127.0.0.1:9999 2\nhttp://127.0.0.1:9998"}})
	mustRedirect(t, "create upstream", resp, "/ui/tenants/shop/upstreams")
	upstream := decodeInto[struct {
		Targets []struct{ Weight int } `json:"targets"`
	}](t, tp.do("GET", "/api/v1/tenants/shop/upstreams/backend", nil, http.StatusOK))
	if len(upstream.Targets) != 2 || upstream.Targets[0].Weight != 2 || upstream.Targets[1].Weight != 1 {
		t.Errorf("upstream targets = %+v, want weights 2 and 1", upstream.Targets)
	}

	resp = web.submit("/ui/tenants/shop/routes", "/ui/tenants/shop/routes", url.Values{"name": {"main"}, "paths": {"/\n/api"}, "method_GET": {"on"}, "upstream": {"backend"}})
	mustRedirect(t, "create route", resp, "/ui/tenants/shop/routes")
	resp = web.submit("/ui/tenants/shop/routes/main/edit", "/ui/tenants/shop/routes/main", url.Values{"name": {"main"}, "paths": {"/v2"}, "upstream": {"backend"}})
	mustRedirect(t, "edit route", resp, "/ui/tenants/shop/routes")
	route := decodeInto[struct {
		Paths   []string `json:"paths"`
		Methods []string `json:"methods"`
	}](t, tp.do("GET", "/api/v1/tenants/shop/routes/main", nil, http.StatusOK))
	if len(route.Paths) != 1 || route.Paths[0] != "/v2" || len(route.Methods) != 0 {
		t.Errorf("edited route = %+v, want paths [/v2] and no methods", route)
	}

	resp = web.submit("/ui/tenants/shop/upstreams", "/ui/tenants/shop/upstreams/backend/delete", url.Values{})
	if resp.status != http.StatusConflict || !strings.Contains(string(resp.body), "main") {
		t.Errorf("delete upstream in use: status = %d, want 409 naming route main; body %s", resp.status, resp.body)
	}
}

func TestConsoleBindingFormValidates(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "shaper", "version": "1.0.0", "source": "// shaper", "config_schema": json.RawMessage(shaperSchema)}, http.StatusCreated)
	web := newWebClient(tp)
	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}})
	form := "/ui/tenants/acme/bindings/new?plugin=shaper&version=1.0.0"
	fields := func(count string) url.Values {
		return url.Values{
			"plugin": {"shaper"}, "version": {"1.0.0"}, "route": {"all"}, "enabled": {"true"},
			"config.greeting": {"hello"}, "config.verbose": {"true"}, "config.mode": {"safe"},
			"config.hosts":        {"a.example\nb.example"},
			"config.headers":      {"X-One: 1\nX-Two: two"},
			"config.limits.count": {count}, "config.limits.ratio": {"0.5"},
		}
	}

	resp := web.submit(form, "/ui/tenants/acme/bindings", fields("many"))
	if resp.status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.body), "config.limits.count") {
		t.Errorf("binding with count \"many\": status = %d, want 422 naming config.limits.count; body %s", resp.status, resp.body)
	}
	if !strings.Contains(string(resp.body), `value="hello"`) {
		t.Errorf("form after a failure lost the posted greeting")
	}

	resp = web.submit(form, "/ui/tenants/acme/bindings", fields("0"))
	if resp.status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.body), "config.limits.count") {
		t.Errorf("binding with count 0 below the minimum: status = %d, want 422 naming config.limits.count; body %s", resp.status, resp.body)
	}

	web.call("GET", "/ui/tenants/acme/bindings?lang=zh-CN", nil, nil)
	resp = web.submit(form, "/ui/tenants/acme/bindings", fields("0"))
	if !strings.Contains(string(resp.body), "字段无效") || !strings.Contains(string(resp.body), "config.limits.count") {
		t.Errorf("Chinese binding form failure lacks the translated title or the field path; body %s", resp.body)
	}

	resp = web.submit(form, "/ui/tenants/acme/bindings", fields("3"))
	mustRedirect(t, "create binding", resp, "/ui/tenants/acme/bindings")
	bindings := decodeInto[[]struct {
		Route  string          `json:"route"`
		Config json.RawMessage `json:"config"`
	}](t, tp.do("GET", "/api/v1/tenants/acme/bindings", nil, http.StatusOK))
	if len(bindings) != 1 || bindings[0].Route != "all" {
		t.Fatalf("bindings = %+v, want one on route all", bindings)
	}
	var got, want any
	json.Unmarshal(bindings[0].Config, &got)
	json.Unmarshal([]byte(`{"greeting":"hello","verbose":true,"mode":"safe","hosts":["a.example","b.example"],"headers":{"X-One":"1","X-Two":"two"},"limits":{"count":3,"ratio":0.5}}`), &want)
	if !sameJSON(got, want) {
		t.Errorf("binding config = %s, want %v", bindings[0].Config, want)
	}
}

func sameJSON(a, b any) bool {
	left, _ := json.Marshal(a)
	right, _ := json.Marshal(b)
	return string(left) == string(right)
}

func TestConsoleViewerCannotChange(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	owner := tp.signup(rec, "owner@example.com")
	tp.signup(rec, "viewer@example.com")
	tp.signup(rec, "outsider@example.com")
	for _, call := range []request{
		owner.as("POST", "/api/v1/tenants", map[string]string{"slug": "shop", "name": "Shop"}),
		owner.as("POST", "/api/v1/tenants/shop/upstreams", map[string]any{"name": "backend", "targets": []map[string]any{{"url": "http://127.0.0.1:9999", "weight": 1}}}),
		owner.as("POST", "/api/v1/tenants/shop/members", map[string]string{"email": "viewer@example.com", "role": "viewer"}),
	} {
		if resp := tp.send(call); resp.status != http.StatusCreated {
			t.Fatalf("%s %s: status = %d, want 201; body %s", call.method, call.path, resp.status, resp.body)
		}
	}

	viewer := newWebClient(tp)
	viewer.signIn(url.Values{"method": {"password"}, "email": {"viewer@example.com"}, "password": {testPassword}})
	page := viewer.page("/ui/tenants/shop/upstreams", nil)
	if !strings.Contains(page, "backend") || strings.Contains(page, `action="/ui/tenants/shop/upstreams"`) {
		t.Errorf("viewer's upstream page: want the upstream listed and no create form")
	}

	resp := viewer.submit("/ui/tenants/shop/upstreams", "/ui/tenants/shop/upstreams", url.Values{"name": {"other"}, "targets": {"http://127.0.0.1:9998"}})
	if resp.status != http.StatusForbidden {
		t.Errorf("viewer creates an upstream: status = %d, want 403", resp.status)
	}
	for _, path := range []string{"/ui/tenants/shop/audit", "/ui/tenants/shop/upstreams/backend/edit"} {
		if resp := viewer.call("GET", path, nil, nil); resp.status != http.StatusForbidden {
			t.Errorf("viewer GET %s: status = %d, want 403", path, resp.status)
		}
	}
	tp.do("GET", "/api/v1/tenants/shop/upstreams/other", nil, http.StatusNotFound)

	outsider := newWebClient(tp)
	outsider.signIn(url.Values{"method": {"password"}, "email": {"outsider@example.com"}, "password": {testPassword}})
	if resp := outsider.call("GET", "/ui/tenants/shop", nil, nil); resp.status != http.StatusNotFound {
		t.Errorf("outsider GET /ui/tenants/shop: status = %d, want 404 like a missing tenant", resp.status)
	}
}

func TestConsoleFormsNeedCSRF(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	web := newWebClient(tp)
	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}})

	for _, post := range []struct {
		path   string
		fields url.Values
	}{
		{"/ui/tenants", url.Values{"slug": {"other"}, "name": {"Other"}}},
		{"/ui/tenants/acme/upstreams", url.Values{"name": {"second"}, "targets": {"http://127.0.0.1:9998"}}},
		{"/ui/tenants/acme/routes/all/delete", url.Values{}},
	} {
		resp := web.call("POST", post.path, post.fields, nil)
		if resp.status != http.StatusForbidden {
			t.Errorf("POST %s without csrf: status = %d, want 403", post.path, resp.status)
		}
	}
	tp.do("GET", "/api/v1/tenants/acme/routes/all", nil, http.StatusOK)
	tp.do("GET", "/api/v1/tenants/other", nil, http.StatusNotFound)
}

func TestConsoleSignUpRejectsShortPassword(t *testing.T) {
	tp := startPortal(t)
	web := newWebClient(tp)

	resp := web.submit("/signup", "/signup", url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {"short"}})
	if resp.status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.body), "password") {
		t.Errorf("sign-up with a short password: status = %d, want 422 naming password; body %s", resp.status, resp.body)
	}
	if strings.Contains(string(resp.body), `value="short"`) {
		t.Errorf("sign-up page echoes the password")
	}
	if _, found := web.cookies["portcullis_session"]; found {
		t.Errorf("rejected sign-up set a session cookie")
	}
}

func TestConsoleSignUpTakenEmail(t *testing.T) {
	tp := startPortal(t)
	fields := url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "password": {testPassword}}
	first := newWebClient(tp).submit("/signup", "/signup", fields)
	if first.status != http.StatusSeeOther && first.status != http.StatusOK {
		t.Fatalf("first sign-up: status = %d, body %s", first.status, first.body)
	}

	resp := newWebClient(tp).submit("/signup", "/signup", fields)
	body := string(resp.body)
	if resp.status != http.StatusConflict {
		t.Errorf("second sign-up: status = %d, want 409", resp.status)
	}
	if !strings.Contains(body, "sign in on the Sign in page") {
		t.Errorf("second sign-up page does not point to the sign-in page: %s", body)
	}
	if strings.Contains(body, "/api/v1/login") {
		t.Errorf("second sign-up page gives the API login path to a browser user")
	}
}

func TestAPIProblemInChinese(t *testing.T) {
	tp := startPortal(t)

	resp := tp.send(request{method: "GET", path: "/api/v1/tenants/nope", header: map[string]string{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}})
	got := checkProblem(t, resp, http.StatusNotFound, "")
	if got.Title != "未找到" || !strings.Contains(got.Detail, `"nope"`) {
		t.Errorf("Chinese problem title %q detail %q, want 未找到 and the slug", got.Title, got.Detail)
	}
	if lang := resp.header.Get("Content-Language"); lang != "zh-CN" {
		t.Errorf("Content-Language = %q, want zh-CN", lang)
	}

	resp = tp.send(request{method: "GET", path: "/api/v1/tenants/nope", header: map[string]string{"Accept-Language": "en"}})
	if got := checkProblem(t, resp, http.StatusNotFound, ""); got.Title != "Not found" {
		t.Errorf("English problem title = %q, want Not found", got.Title)
	}
}

func TestUnsupportedMediaTypeInChinese(t *testing.T) {
	tp := startPortal(t)

	resp := tp.send(request{method: "POST", path: "/api/v1/tenants", body: "slug=b", contentType: "text/plain", header: map[string]string{"Accept-Language": "zh-CN"}})
	got := checkProblem(t, resp, http.StatusUnsupportedMediaType, "Content-Type")
	want := `不支持媒体类型 "text/plain"：请以 Content-Type: application/json 发送 JSON`
	if got.Detail != want {
		t.Errorf("detail = %q, want %q", got.Detail, want)
	}
}

func TestConsoleBindsConsumer(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	tp.do("POST", "/api/v1/tenants/acme/consumers", map[string]any{"name": "mobile"}, http.StatusCreated)
	web := newWebClient(tp)
	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}})
	form := "/ui/tenants/acme/bindings/new?plugin=hello&version=1.0.0"

	page := web.call("GET", form, nil, nil)
	if !strings.Contains(string(page.body), `<option value="mobile"`) {
		t.Fatalf("binding form lists no consumer mobile; body %s", page.body)
	}

	both := url.Values{"plugin": {"hello"}, "version": {"1.0.0"}, "route": {"all"}, "consumer": {"mobile"}, "enabled": {"true"}, "config.greeting": {"hi"}}
	resp := web.submit(form, "/ui/tenants/acme/bindings", both)
	if resp.status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.body), "consumer") {
		t.Errorf("binding of a route and a consumer: status = %d, want 422 naming consumer; body %s", resp.status, resp.body)
	}

	consumer := url.Values{"plugin": {"hello"}, "version": {"1.0.0"}, "route": {""}, "consumer": {"mobile"}, "enabled": {"true"}, "config.greeting": {"hi"}}
	resp = web.submit(form, "/ui/tenants/acme/bindings", consumer)
	mustRedirect(t, "create consumer binding", resp, "/ui/tenants/acme/bindings")
	bindings := decodeInto[[]struct {
		Route    string `json:"route"`
		Consumer string `json:"consumer"`
	}](t, tp.do("GET", "/api/v1/tenants/acme/bindings", nil, http.StatusOK))
	if len(bindings) != 1 || bindings[0].Consumer != "mobile" || bindings[0].Route != "" {
		t.Errorf("bindings = %+v, want one of consumer mobile on every route", bindings)
	}
}
