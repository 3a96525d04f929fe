package portal_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// webClient is a browser stand-in: it keeps the portal's cookies and does
// not follow redirects, so tests see each 303.
type webClient struct {
	tp      *testPortal
	client  *http.Client
	cookies map[string]*http.Cookie
}

func newWebClient(tp *testPortal) *webClient {
	client := &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &webClient{tp: tp, client: client, cookies: map[string]*http.Cookie{}}
}

// call sends a request with the kept cookies and records the new ones. A
// non-nil form is sent URL-encoded.
func (w *webClient) call(method, path string, form url.Values, header map[string]string) response {
	w.tp.t.Helper()

	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, w.tp.base+path, body)
	if err != nil {
		w.tp.t.Fatalf("build request %s %s: %v", method, path, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, cookie := range w.cookies {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	for name, value := range header {
		req.Header.Set(name, value)
	}

	resp, err := w.client.Do(req)
	if err != nil {
		w.tp.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		w.tp.t.Fatalf("read response of %s %s: %v", method, path, err)
	}

	for _, cookie := range resp.Cookies() {
		if cookie.MaxAge < 0 {
			delete(w.cookies, cookie.Name)
			continue
		}
		w.cookies[cookie.Name] = cookie
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrfOf returns the CSRF token in a page's form.
func csrfOf(t *testing.T, page response) string {
	t.Helper()
	match := csrfPattern.FindSubmatch(page.body)
	if match == nil {
		t.Fatalf("page has no csrf field: %s", page.body)
	}
	return string(match[1])
}

// signIn opens /login and posts the form with the fields, and fails the
// test unless it redirects to the tenant list.
func (w *webClient) signIn(fields url.Values) {
	w.tp.t.Helper()

	page := w.call("GET", "/login", nil, nil)
	fields.Set("csrf", csrfOf(w.tp.t, page))
	resp := w.call("POST", "/login", fields, nil)
	if resp.status != http.StatusSeeOther || !strings.HasPrefix(resp.header.Get("Location"), "/ui/tenants") {
		w.tp.t.Fatalf("POST /login: status = %d, Location %q, want 303 to /ui/tenants; body %s", resp.status, resp.header.Get("Location"), resp.body)
	}
}

func (w *webClient) page(path string, header map[string]string) string {
	w.tp.t.Helper()
	resp := w.call("GET", path, nil, header)
	if resp.status != http.StatusOK {
		w.tp.t.Fatalf("GET %s: status = %d, want 200; body %s", path, resp.status, resp.body)
	}
	return string(resp.body)
}

func TestWebOperatorSignInAndOut(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	web := newWebClient(tp)

	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}})
	session := web.cookies["portcullis_session"]
	if session == nil {
		t.Fatalf("cookies after sign-in = %v, want portcullis_session", web.cookies)
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q, want true, Lax, /", session.HttpOnly, session.SameSite, session.Path)
	}
	if strings.Contains(session.Value, testToken) || !strings.HasPrefix(session.Value, "pco_") {
		t.Errorf("session cookie = %q, want a pco_ session id without the operator token", session.Value)
	}

	body := web.page("/ui/propagation", nil)
	for _, want := range []string{"Edges", "acme", "Latest revision", "简体中文"} {
		if !strings.Contains(body, want) {
			t.Errorf("propagation page lacks %q", want)
		}
	}
	if strings.Contains(body, testToken) {
		t.Errorf("propagation page contains the operator token")
	}

	resp := web.call("POST", "/logout", url.Values{}, nil)
	if resp.status != http.StatusForbidden {
		t.Errorf("POST /logout without csrf: status = %d, want 403", resp.status)
	}

	resp = web.call("POST", "/logout", url.Values{"csrf": {csrfOf(t, response{body: []byte(body)})}}, nil)
	if resp.status != http.StatusSeeOther {
		t.Fatalf("POST /logout: status = %d, want 303; body %s", resp.status, resp.body)
	}

	web.cookies["portcullis_session"] = session
	resp = web.call("GET", "/ui/propagation", nil, nil)
	if resp.status != http.StatusSeeOther || !strings.HasPrefix(resp.header.Get("Location"), "/login") {
		t.Errorf("GET /ui/propagation with the ended session: status = %d, Location %q, want 303 to /login", resp.status, resp.header.Get("Location"))
	}
}

func TestWebLoginWithoutCSRF(t *testing.T) {
	tp := startPortal(t)
	web := newWebClient(tp)
	web.call("GET", "/login", nil, nil)

	resp := web.call("POST", "/login", url.Values{"method": {"operator"}, "token": {testToken}}, nil)
	if resp.status != http.StatusForbidden {
		t.Errorf("POST /login without csrf: status = %d, want 403", resp.status)
	}

	resp = web.call("POST", "/login", url.Values{"method": {"operator"}, "token": {testToken}, "csrf": {strings.Repeat("0", 64)}}, nil)
	if resp.status != http.StatusForbidden {
		t.Errorf("POST /login with a wrong csrf: status = %d, want 403", resp.status)
	}
	if _, found := web.cookies["portcullis_session"]; found {
		t.Errorf("rejected POST /login set a session cookie")
	}
}

func TestWebSessionNotValidOnAPI(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	tp.signup(rec, "ada@example.com")
	none := ""

	for _, fields := range []url.Values{
		{"method": {"operator"}, "token": {testToken}},
		{"method": {"password"}, "email": {"ada@example.com"}, "password": {testPassword}},
	} {
		web := newWebClient(tp)
		web.signIn(fields)
		secret := web.cookies["portcullis_session"].Value

		resp := tp.send(request{method: "GET", path: "/api/v1/tenants", token: &none, header: map[string]string{"Cookie": "portcullis_session=" + secret}})
		if resp.status != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/tenants with the %s session cookie: status = %d, want 401", fields.Get("method"), resp.status)
		}

		resp = tp.send(request{method: "GET", path: "/api/v1/tenants", token: &secret})
		if resp.status != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/tenants with the %s cookie value as bearer: status = %d, want 401", fields.Get("method"), resp.status)
		}
	}
}

func TestWebUserSeesOwnTenants(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	ada := tp.signup(rec, "ada@example.com")
	bob := tp.signup(rec, "bob@example.com")
	for _, create := range []struct {
		user userSession
		slug string
	}{{ada, "ada-shop"}, {bob, "bob-shop"}} {
		resp := tp.send(create.user.as("POST", "/api/v1/tenants", map[string]string{"slug": create.slug, "name": create.slug}))
		if resp.status != http.StatusCreated {
			t.Fatalf("create tenant %s: status = %d, want 201; body %s", create.slug, resp.status, resp.body)
		}
	}

	web := newWebClient(tp)
	web.signIn(url.Values{"method": {"password"}, "email": {"ada@example.com"}, "password": {testPassword}})
	body := web.page("/ui/propagation", nil)

	if !strings.Contains(body, "ada-shop") {
		t.Errorf("ada's propagation page lacks her tenant ada-shop")
	}
	if strings.Contains(body, "bob-shop") {
		t.Errorf("ada's propagation page shows bob's tenant bob-shop")
	}
	if strings.Contains(body, "<h2>Edges</h2>") {
		t.Errorf("ada's propagation page shows the operator's edge table")
	}
}

func TestWebWrongPasswordRejected(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	tp.signup(rec, "ada@example.com")
	web := newWebClient(tp)

	page := web.call("GET", "/login", nil, nil)
	resp := web.call("POST", "/login", url.Values{"method": {"password"}, "email": {"ada@example.com"}, "password": {"wrong password here"}, "csrf": {csrfOf(t, page)}}, nil)
	if resp.status != http.StatusUnauthorized {
		t.Errorf("POST /login with a wrong password: status = %d, want 401", resp.status)
	}
	if !strings.Contains(string(resp.body), "Wrong email or password.") {
		t.Errorf("login page after a wrong password lacks the error message")
	}
	if strings.Contains(string(resp.body), "wrong password here") {
		t.Errorf("login page echoes the password")
	}
}

func TestWebChinese(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	web := newWebClient(tp)
	chinese := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}

	login := web.page("/login", chinese)
	for _, want := range []string{`lang="zh-CN"`, "使用账号登录", "运维令牌", "以运维人员身份登录", `href="/login?lang=en"`} {
		if !strings.Contains(login, want) {
			t.Errorf("Chinese login page lacks %q", want)
		}
	}

	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}, "lang": {"zh-CN"}})
	body := web.page("/ui/propagation", chinese)
	for _, want := range []string{"配置向边缘节点的传播", "退出登录", "边缘节点", "最新修订号", `href="/ui/propagation?lang=en"`} {
		if !strings.Contains(body, want) {
			t.Errorf("Chinese propagation page lacks %q", want)
		}
	}

	english := web.page("/ui/propagation?lang=en", chinese)
	if !strings.Contains(english, "Propagation to the edges") {
		t.Errorf("?lang=en page lacks the English title")
	}
}
