package ui

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/api"
	"portcullis.dev/portal/dnstest"
	"portcullis.dev/portal/secrets"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/testcert"
)

const consoleToken = "console-operator-token-0123456789"

// consoleSite is a portal API and console on a loopback socket with a
// seeded tenant "acme", and the cookie of an operator session.
type consoleSite struct {
	t      *testing.T
	base   string
	store  *store.Store
	cookie string
	// binding is the id of the seeded binding.
	binding string
	// dns is the DNS server that domain verifications ask.
	dns *dnstest.Server
}

func startConsole(t *testing.T) *consoleSite {
	t.Helper()
	return startConsoleOn(t, filepath.Join(t.TempDir(), "portal.db"))
}

// startConsoleOn starts the console on the store at dataSource: a SQLite
// file path or a PostgreSQL URL.
func startConsoleOn(t *testing.T, dataSource string) *consoleSite {
	t.Helper()
	ctx := context.Background()

	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatalf("create secret box: %v", err)
	}
	st, err := store.Open(ctx, dataSource, store.Options{
		Compiler: func(string, string, string) error { return nil },
		Secrets:  box,
	})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	app, err := api.NewApp(api.Options{Store: st, AdminToken: consoleToken})
	if err != nil {
		t.Fatalf("create api: %v", err)
	}
	dns := dnstest.Start(t)
	lookupTXT, err := api.NewTXTLookup(dns.Addr())
	if err != nil {
		t.Fatalf("create TXT lookup: %v", err)
	}
	Register(app, Options{Store: st, AdminToken: consoleToken, LookupTXT: lookupTXT})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go app.Listener(ln)
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shut down: %v", err)
		}
		// Fiber's shutdown misses a listener that app.Listener has not
		// handed to the server yet.
		_ = ln.Close()
		st.Close()
	})

	site := &consoleSite{t: t, base: "http://" + ln.Addr().String(), store: st, dns: dns}
	site.cookie = site.operatorCookie()
	site.seed()
	return site
}

func (s *consoleSite) operatorCookie() string {
	secret, err := newSecret(OperatorSessionPrefix)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.store.CreateOperatorSession(context.Background(), accounts.HashToken(secret), time.Now().Add(time.Hour)); err != nil {
		s.t.Fatalf("create operator session: %v", err)
	}
	return SessionCookie + "=" + secret
}

// richSchema has an input of every kind that the binding form generates.
const richSchema = `{"type":"object","properties":{
  "greeting":{"type":"string","description":"Greeting to send"},
  "retries":{"type":"integer","minimum":0},
  "ratio":{"type":"number"},
  "verbose":{"type":"boolean","default":true},
  "mode":{"enum":["fast","safe"]},
  "hosts":{"type":"array","items":{"type":"string"}},
  "codes":{"type":"array","items":{"type":"integer"}},
  "headers":{"type":"object","additionalProperties":{"type":"string"}},
  "limits":{"type":"object","properties":{"count":{"type":"integer","minimum":1},"window":{"type":"string"}},"required":["count"]},
  "rules":{"type":"array","items":{"type":"object"}}
},"required":["greeting"],"additionalProperties":false}`

func (s *consoleSite) seed() {
	s.t.Helper()
	ctx := context.Background()
	st := s.store

	steps := []func() error{
		func() error { _, err := st.CreateTenant(ctx, config.Tenant{Slug: "acme", Name: "acme"}); return err },
		func() error {
			_, err := st.CreateUpstream(ctx, "acme", config.Upstream{Name: "backend", Targets: []config.Target{{URL: "http://127.0.0.1:9", Weight: 1}}})
			return err
		},
		func() error {
			_, err := st.CreateRoute(ctx, "acme", config.Route{Name: "all", Paths: []string{"/"}, Upstream: "backend"})
			return err
		},
		func() error {
			_, err := st.PublishPlugin(ctx, store.NewPluginVersion{Name: "shaper", Version: "1.0.0", Source: "// shaper", ConfigSchema: json.RawMessage(richSchema)})
			return err
		},
		func() error {
			binding, err := st.CreateBinding(ctx, "acme", config.Binding{Plugin: "shaper", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi","limits":{"count":3}}`)})
			s.binding = binding.ID
			return err
		},
		func() error { _, err := st.CreateConsumer(ctx, "acme", config.Consumer{Name: "alice"}); return err },
		func() error {
			_, err := st.CreateCredential(ctx, "acme", "alice", store.CredentialInput{Type: "key-auth"})
			return err
		},
		func() error { _, err := st.CreateDomain(ctx, "acme", "shop.example.com"); return err },
		func() error {
			cert := testcert.New(s.t, "shop.example.com")
			_, err := st.SetDomainCertificate(ctx, "acme", "shop.example.com", store.CertificateInput{CertificatePEM: cert.CertificatePEM, PrivateKeyPEM: cert.PrivateKeyPEM})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			s.t.Fatalf("seed step %d: %v", i, err)
		}
	}
}

// get fetches a page with the operator's cookie.
func (s *consoleSite) get(path string, header map[string]string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.base+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Cookie", s.cookie)
	for name, value := range header {
		req.Header.Set(name, value)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// consolePaths are every console page of the seeded site.
func (s *consoleSite) consolePaths() []string {
	return []string{
		"/", "/login", "/signup",
		"/ui/tenants", "/ui/marketplace", "/ui/propagation", "/ui/namespaces",
		"/ui/tenants/acme",
		"/ui/tenants/acme/upstreams", "/ui/tenants/acme/upstreams/backend/edit",
		"/ui/tenants/acme/routes", "/ui/tenants/acme/routes/all/edit",
		"/ui/tenants/acme/consumers", "/ui/tenants/acme/consumers/alice",
		"/ui/tenants/acme/bindings", "/ui/tenants/acme/bindings/new?plugin=shaper&version=1.0.0",
		"/ui/tenants/acme/bindings/" + s.binding + "/edit",
		"/ui/tenants/acme/domains",
		"/ui/tenants/acme/installs",
		"/ui/tenants/acme/members",
		"/ui/tenants/acme/settings",
		"/ui/tenants/acme/audit",
	}
}

var (
	styleBlock = regexp.MustCompile(`(?s)<style>.*?</style>`)
	htmlTag    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// visibleText returns the text of a page without its markup and styles.
func visibleText(page string) string {
	return htmlTag.ReplaceAllString(styleBlock.ReplaceAllString(page, " "), " ")
}

// containsWords reports whether text contains phrase as whole words, so
// that "Plugin" does not match in the header name X-Portcullis-Plugins.
func containsWords(text, phrase string) bool {
	pattern := regexp.QuoteMeta(phrase)
	if isWordByte(phrase[0]) {
		pattern = `\b` + pattern
	}
	if isWordByte(phrase[len(phrase)-1]) {
		pattern += `\b`
	}
	return regexp.MustCompile(pattern).MatchString(text)
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// englishStrings returns every English UI string that differs from its
// Chinese counterpart: the console catalogue, the sign-in and propagation
// texts, and the introduction page.
func englishStrings() map[string]string {
	strings := map[string]string{}
	for key, english := range englishMessages {
		if english != chineseMessages[key] {
			strings[key] = english
		}
	}

	pairs := map[string][2]any{
		"webText":  {webText[English], webText[SimplifiedChinese]},
		"pageText": {pageText[English], pageText[SimplifiedChinese]},
	}
	for name, pair := range pairs {
		english, chinese := reflect.ValueOf(pair[0]), reflect.ValueOf(pair[1])
		for i := range english.NumField() {
			field := english.Type().Field(i)
			if field.Type.Kind() == reflect.String && english.Field(i).String() != chinese.Field(i).String() {
				strings[name+"."+field.Name] = english.Field(i).String()
			}
		}
	}
	return strings
}

func TestConsolePagesInBothLanguages(t *testing.T) {
	site := startConsole(t)
	english := englishStrings()

	for _, path := range site.consolePaths() {
		for _, lang := range []string{English, SimplifiedChinese} {
			separator := "?"
			if strings.Contains(path, "?") {
				separator = "&"
			}
			status, page := site.get(path+separator+"lang="+lang, nil)
			if status != http.StatusOK {
				t.Errorf("GET %s in %s: status %d, want 200; body %.300s", path, lang, status, page)
				continue
			}
			if !strings.Contains(page, `lang="`+lang+`"`) {
				t.Errorf("GET %s in %s: page lacks lang=%q", path, lang, lang)
			}
			if strings.Contains(page, "[[") {
				t.Errorf("GET %s in %s: page shows a missing catalogue key: %s", path, lang, regexp.MustCompile(`\[\[[^\]]*\]\]`).FindString(page))
			}
			if lang != SimplifiedChinese {
				continue
			}

			text := visibleText(page)
			for key, value := range english {
				if len(value) >= 4 && containsWords(text, value) {
					t.Errorf("GET %s in zh-CN: English string %q of %s is left on the page", path, value, key)
				}
			}
		}
	}
}

func TestConsoleLanguageCookie(t *testing.T) {
	site := startConsole(t)
	req, err := http.NewRequest("GET", site.base+"/ui/tenants?lang=zh-CN", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", site.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var chosen string
	for _, cookie := range resp.Cookies() {
		if cookie.Name == LanguageCookie {
			chosen = cookie.Value
		}
	}
	if chosen != SimplifiedChinese {
		t.Fatalf("language cookie after ?lang=zh-CN = %q, want zh-CN", chosen)
	}

	site.cookie += "; " + LanguageCookie + "=zh-CN"
	_, page := site.get("/ui/tenants/acme/routes", map[string]string{"Accept-Language": "en"})
	if !strings.Contains(page, chineseMessages["routes.create"]) {
		t.Errorf("routes page with the zh-CN cookie and Accept-Language en lacks %q", chineseMessages["routes.create"])
	}
}

func TestConsoleGeneratedFormInputs(t *testing.T) {
	site := startConsole(t)
	_, page := site.get("/ui/tenants/acme/bindings/new?plugin=shaper&version=1.0.0", nil)

	for _, want := range []string{
		`<input type="text" id="config.greeting" name="config.greeting"`,
		`inputmode="numeric" id="config.retries"`,
		`inputmode="decimal" id="config.ratio"`,
		`<input type="checkbox" id="config.verbose" name="config.verbose" value="true" checked>`,
		`<select id="config.mode" name="config.mode"`,
		`<textarea id="config.hosts"`,
		`<textarea id="config.headers"`,
		`<legend>limits</legend>`,
		`id="config.limits.count"`,
		`<textarea id="config.rules"`,
		`name="csrf"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("binding form lacks %s", want)
		}
	}
}

// post sends a form with the operator session's CSRF token.
func (s *consoleSite) post(path string, fields url.Values) (int, string) {
	s.t.Helper()
	secret := strings.TrimPrefix(s.cookie, SessionCookie+"=")
	fields.Set(CSRFField, csrfToken(secret))

	req, err := http.NewRequest("POST", s.base+path, strings.NewReader(fields.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", s.cookie)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read POST %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

var newKeyPattern = regexp.MustCompile(`id="new-key">([^<]+)<`)

func TestConsoleCredentialKeyShownOnce(t *testing.T) {
	site := startConsole(t)

	status, page := site.post("/ui/tenants/acme/consumers/alice/credentials", url.Values{"type": {"key-auth"}})
	match := newKeyPattern.FindStringSubmatch(page)
	if status != http.StatusCreated || match == nil {
		t.Fatalf("create key-auth credential: status = %d, want 201 with the generated key; body %.500s", status, page)
	}
	key := match[1]

	for _, path := range []string{"/ui/tenants/acme/consumers/alice", "/ui/tenants/acme/consumers", "/ui/tenants/acme/audit"} {
		if _, page := site.get(path, nil); strings.Contains(page, key) {
			t.Errorf("GET %s shows the generated key again", path)
		}
	}

	_, audit := site.get("/ui/tenants/acme/audit", nil)
	if !strings.Contains(audit, "/api/v1/tenants/acme/consumers/alice/credentials/") {
		t.Errorf("audit page lacks the credential created through the console")
	}
	events, err := site.store.TenantAuditLog(context.Background(), "acme", 0, 10)
	if err != nil || len(events) == 0 {
		t.Fatalf("audit log: %d events, error %v; want the credential event", len(events), err)
	}
	if got := string(events[len(events)-1].After); strings.Contains(got, key) {
		t.Errorf("audit event contains the key: %s", got)
	}
}

func TestConsoleConsumerDeleted(t *testing.T) {
	site := startConsole(t)

	status, _ := site.post("/ui/tenants/acme/consumers", url.Values{"name": {"bob"}, "description": {"Mobile app"}, "tags": {"mobile, beta"}})
	if status != http.StatusSeeOther {
		t.Fatalf("create consumer: status = %d, want 303", status)
	}
	consumer, err := site.store.GetConsumer(context.Background(), "acme", "bob")
	if err != nil || len(consumer.Tags) != 2 || consumer.Description != "Mobile app" {
		t.Fatalf("created consumer = %+v, error %v; want two tags and the description", consumer, err)
	}

	status, _ = site.post("/ui/tenants/acme/consumers/bob/delete", url.Values{})
	if status != http.StatusSeeOther {
		t.Fatalf("delete consumer: status = %d, want 303", status)
	}
	if _, err := site.store.GetConsumer(context.Background(), "acme", "bob"); !isNotFound(err) {
		t.Errorf("consumer after delete: error %v, want not found", err)
	}
}

func TestConsoleDomainClaimed(t *testing.T) {
	site := startConsole(t)

	status, page := site.post("/ui/tenants/acme/domains", url.Values{"hostname": {"not a hostname"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, "hostname") {
		t.Errorf("claim an invalid hostname: status = %d, want 422 naming hostname", status)
	}

	status, _ = site.post("/ui/tenants/acme/domains", url.Values{"hostname": {"api.example.com"}})
	if status != http.StatusSeeOther {
		t.Fatalf("claim api.example.com: status = %d, want 303", status)
	}
	domain, err := site.store.GetDomain(context.Background(), "acme", "api.example.com")
	if err != nil {
		t.Fatalf("read the claimed domain: %v", err)
	}
	_, page = site.get("/ui/tenants/acme/domains", nil)
	if !strings.Contains(page, domain.VerificationRecord) || !strings.Contains(page, domain.VerificationToken) {
		t.Errorf("domain page lacks the TXT record %s with the token", domain.VerificationRecord)
	}

	status, _ = site.post("/ui/tenants/acme/domains/api.example.com/delete", url.Values{})
	if _, err := site.store.GetDomain(context.Background(), "acme", "api.example.com"); status != http.StatusSeeOther || !isNotFound(err) {
		t.Errorf("delete domain: status = %d, then read error %v, want 303 and not found", status, err)
	}
}

func TestConsoleInstallPinRangeRollback(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	if _, err := site.store.PublishPlugin(ctx, store.NewPluginVersion{Name: "shaper", Version: "1.1.0", Source: "// shaper 1.1", ConfigSchema: json.RawMessage(richSchema)}); err != nil {
		t.Fatalf("publish shaper 1.1.0: %v", err)
	}

	steps := []struct {
		path        string
		fields      url.Values
		wantVersion string
	}{
		{"/ui/tenants/acme/installs", url.Values{"plugin": {"shaper"}, "version": {"1.0.0"}}, "1.0.0"},
		{"/ui/tenants/acme/installs", url.Values{"plugin": {"shaper"}, "version": {"^1"}}, "1.1.0"},
		{"/ui/tenants/acme/installs/rollback", url.Values{"plugin": {"shaper"}}, "1.0.0"},
	}
	for _, step := range steps {
		status, page := site.post(step.path, step.fields)
		if status != http.StatusSeeOther {
			t.Fatalf("POST %s %v: status = %d, want 303; body %.400s", step.path, step.fields, status, page)
		}
		install, err := site.store.GetInstall(ctx, "acme", "shaper")
		if err != nil || install.Version != step.wantVersion {
			t.Fatalf("after POST %s %v: install %+v, error %v; want version %s", step.path, step.fields, install, err, step.wantVersion)
		}
	}

	status, page := site.post("/ui/tenants/acme/installs", url.Values{"plugin": {"shaper"}, "version": {"^9"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, "^9") {
		t.Errorf("install a range without versions: status = %d, want 422 naming ^9", status)
	}

	status, _ = site.post("/ui/tenants/acme/installs/delete", url.Values{"plugin": {"shaper"}})
	if _, err := site.store.GetInstall(ctx, "acme", "shaper"); status != http.StatusSeeOther || !isNotFound(err) {
		t.Errorf("delete install: status = %d, then read error %v, want 303 and not found", status, err)
	}
}

// userCookie creates a user with the role in tenant acme and returns the
// cookie of a web session.
func (s *consoleSite) userCookie(email string, role accounts.Role) string {
	s.t.Helper()
	ctx := context.Background()

	user, err := s.store.CreateUser(ctx, store.NewUser{Email: email, Name: email, PasswordHash: "unused"})
	if err != nil {
		s.t.Fatalf("create user %s: %v", email, err)
	}
	if _, err := s.store.AddMember(ctx, "acme", email, role, accounts.RoleOwner); err != nil {
		s.t.Fatalf("add %s as %s: %v", email, role, err)
	}
	token, digest, err := accounts.NewToken(accounts.KindWeb)
	if err != nil {
		s.t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour)
	if _, err := s.store.CreateUserToken(ctx, user.ID, store.NewUserToken{Kind: accounts.KindWeb, Name: "test", SHA256: digest, ExpiresAt: &expires}); err != nil {
		s.t.Fatalf("create web session of %s: %v", email, err)
	}
	return SessionCookie + "=" + token
}

func TestConsoleViewerSeesRedactedConfig(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	if _, err := site.store.PublishPlugin(ctx, store.NewPluginVersion{Name: "vault", Version: "1.0.0", Source: "// vault"}); err != nil {
		t.Fatalf("publish vault: %v", err)
	}
	if _, err := site.store.CreateBinding(ctx, "acme", config.Binding{Plugin: "vault", Version: "1.0.0", Config: json.RawMessage(`{"secret_key":"s3cr3t-value","region":"eu"}`)}); err != nil {
		t.Fatalf("bind vault: %v", err)
	}

	_, page := site.get("/ui/tenants/acme/bindings", nil)
	if !strings.Contains(page, "s3cr3t-value") {
		t.Errorf("operator's bindings page lacks the config secret, which editors need")
	}

	site.cookie = site.userCookie("viewer@example.com", accounts.RoleViewer)
	status, page := site.get("/ui/tenants/acme/bindings", nil)
	if status != http.StatusOK {
		t.Fatalf("viewer GET bindings: status %d, want 200", status)
	}
	if strings.Contains(page, "s3cr3t-value") || !strings.Contains(page, "[REDACTED]") {
		t.Errorf("viewer's bindings page shows the secret or lacks [REDACTED]")
	}
	if !strings.Contains(page, "eu") {
		t.Errorf("viewer's bindings page lacks the config's other values")
	}
	if status, _ := site.get("/ui/tenants/acme/bindings/"+site.binding+"/edit", nil); status != http.StatusForbidden {
		t.Errorf("viewer GET binding edit form: status %d, want 403", status)
	}
}

func TestConsoleMembersByRole(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	viewerCookie := site.userCookie("viewer@example.com", accounts.RoleViewer)
	site.cookie = site.userCookie("admin@example.com", accounts.RoleAdmin)
	if _, err := site.store.CreateUser(ctx, store.NewUser{Email: "dev@example.com", Name: "Dev", PasswordHash: "unused"}); err != nil {
		t.Fatal(err)
	}

	status, _ := site.post("/ui/tenants/acme/members", url.Values{"email": {"dev@example.com"}, "role": {"developer"}})
	if status != http.StatusSeeOther {
		t.Fatalf("admin adds a developer: status = %d, want 303", status)
	}
	members, err := site.store.ListMembers(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var dev store.Member
	for _, member := range members {
		if member.Email == "dev@example.com" {
			dev = member
		}
	}
	if dev.Role != accounts.RoleDeveloper {
		t.Fatalf("members after the add = %+v, want dev@example.com as developer", members)
	}

	status, page := site.post("/ui/tenants/acme/members/"+dev.User, url.Values{"role": {"owner"}})
	if status != http.StatusForbidden || !strings.Contains(page, "role=\"alert\"") {
		t.Errorf("admin grants the owner role: status = %d, want 403 with an alert", status)
	}

	site.cookie = viewerCookie
	status, _ = site.post("/ui/tenants/acme/members/"+dev.User+"/delete", url.Values{})
	if status != http.StatusForbidden {
		t.Errorf("viewer removes a member: status = %d, want 403", status)
	}
	if _, err := site.store.GetMember(ctx, "acme", dev.User); err != nil {
		t.Errorf("member after the viewer's rejected remove: %v, want still there", err)
	}
}

func TestConsoleTenantSettings(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	operator := site.cookie

	status, _ := site.post("/ui/tenants/acme/settings", url.Values{"name": {"Acme Shop"}, "debug_headers": {"true"}})
	tenant, err := site.store.GetTenant(ctx, "acme")
	if status != http.StatusSeeOther || err != nil || tenant.Name != "Acme Shop" || !tenant.DebugHeaders {
		t.Fatalf("save settings: status %d, tenant %+v, error %v; want 303, the new name and debug headers", status, tenant, err)
	}

	site.cookie = site.userCookie("admin@example.com", accounts.RoleAdmin)
	if status, _ := site.post("/ui/tenants/acme/delete", url.Values{"confirm": {"acme"}}); status != http.StatusForbidden {
		t.Errorf("admin deletes the tenant: status = %d, want 403 because it takes an owner", status)
	}

	site.cookie = operator
	status, page := site.post("/ui/tenants/acme/delete", url.Values{"confirm": {"acm"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, "acme") {
		t.Errorf("delete with a wrong confirmation: status = %d, want 422", status)
	}
	if _, err := site.store.GetTenant(ctx, "acme"); err != nil {
		t.Fatalf("tenant after a rejected delete: %v, want it kept", err)
	}

	status, _ = site.post("/ui/tenants/acme/delete", url.Values{"confirm": {"acme"}})
	if _, err := site.store.GetTenant(ctx, "acme"); status != http.StatusSeeOther || !isNotFound(err) {
		t.Errorf("delete with the slug: status = %d, then read error %v, want 303 and not found", status, err)
	}
}

// TestConsoleUpstreamNameFixedOnEdit checks that the edit form of an
// upstream shows its name read-only, because a name cannot change, while
// the create form lets the user type one.
func TestConsoleUpstreamNameFixedOnEdit(t *testing.T) {
	site := startConsole(t)

	_, edit := site.get("/ui/tenants/acme/upstreams/backend/edit", nil)
	if !strings.Contains(edit, `name="name" value="backend" required readonly>`) {
		t.Errorf("edit form lacks a read-only name input:\n%s", edit)
	}
	_, list := site.get("/ui/tenants/acme/upstreams", nil)
	if strings.Contains(list, "readonly") {
		t.Errorf("create form has a read-only input:\n%s", list)
	}
}
