package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/secrets"
	"portcullis.dev/portal/store"
	"portcullis.dev/portal/store/pgtest"
)

const walkOperatorToken = "walk-operator-token-0123456789"

// walkServer is the API on a real 127.0.0.1 socket.
type walkServer struct {
	t      *testing.T
	app    *fiber.App
	store  *store.Store
	base   string
	client *http.Client
}

func startWalkServer(t *testing.T, dataSource string) *walkServer {
	t.Helper()
	return startLoggedServer(t, dataSource, nil)
}

// startLoggedServer starts the API with a secret key and the logger.
func startLoggedServer(t *testing.T, dataSource string, logger *slog.Logger) *walkServer {
	t.Helper()
	return startAPIServer(t, dataSource, Options{Logger: logger})
}

// startAPIServer starts the API on 127.0.0.1 with opts, a fresh secret key
// and the walk's operator token. The store logs to opts.Logger.
func startAPIServer(t *testing.T, dataSource string, opts Options) *walkServer {
	t.Helper()

	key, err := secrets.NewKey()
	if err != nil {
		t.Fatalf("secrets.NewKey() error = %v", err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatalf("secrets.NewBox() error = %v", err)
	}
	st, err := store.Open(context.Background(), dataSource, store.Options{Compiler: func(string, string, string) error { return nil }, Secrets: box, Logger: opts.Logger})
	if err != nil {
		t.Fatalf("store.Open() error = %v", err)
	}
	opts.Store, opts.AdminToken = st, walkOperatorToken
	app, err := NewApp(opts)
	if err != nil {
		t.Fatalf("NewApp() error = %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()

	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("Shutdown() error = %v", err)
		}
		// Fiber's shutdown misses a listener that app.Listener has not
		// handed to the server yet, and closing it ends app.Listener.
		_ = ln.Close()
		<-served
		if err := st.Close(); err != nil {
			t.Errorf("store Close() error = %v", err)
		}
	})

	return &walkServer{t: t, app: app, store: st, base: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 10 * time.Second}}
}

// call sends a request with the token and returns the status and body.
func (w *walkServer) call(token, method, path string, body any) (int, []byte) {
	w.t.Helper()

	var reader io.Reader
	if body != nil {
		encoded, err := json.Marshal(body)
		if err != nil {
			w.t.Fatalf("encode body: %v", err)
		}
		reader = bytes.NewReader(encoded)
	}
	req, err := http.NewRequest(method, w.base+path, reader)
	if err != nil {
		w.t.Fatalf("build %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	resp, err := w.client.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// must sends a request and fails the test unless the status is want.
func (w *walkServer) must(token, method, path string, body any, want int) []byte {
	w.t.Helper()

	status, data := w.call(token, method, path, body)
	if status != want {
		w.t.Fatalf("%s %s: status = %d, want %d; body %s", method, path, status, want, data)
	}
	return data
}

// signupAndLogin creates an account and returns its user id and a token.
func (w *walkServer) signupAndLogin(email string) (string, string) {
	w.t.Helper()

	password := "correct horse battery " + email
	w.must("", "POST", "/api/v1/signup", map[string]string{"email": email, "password": password, "name": email}, http.StatusCreated)
	var login struct {
		Token string     `json:"token"`
		User  store.User `json:"user"`
	}
	data := w.must("", "POST", "/api/v1/login", map[string]string{"email": email, "password": password}, http.StatusOK)
	if err := json.Unmarshal(data, &login); err != nil {
		w.t.Fatalf("decode login: %v", err)
	}
	return login.User.ID, login.Token
}

// tenantFixture names the resources of one tenant in the walk.
type tenantFixture struct {
	slug    string
	owner   string
	token   string
	binding string
}

// seedWalkTenant creates a tenant owned by the user with an upstream, a
// route and a binding whose names start with the slug.
func (w *walkServer) seedWalkTenant(slug, email string) tenantFixture {
	w.t.Helper()

	owner, token := w.signupAndLogin(email)
	base := "/api/v1/tenants/" + slug
	w.must(token, "POST", "/api/v1/tenants", map[string]string{"slug": slug, "name": slug}, http.StatusCreated)
	w.must(token, "POST", base+"/upstreams", map[string]any{"name": slug + "-up", "targets": []map[string]any{{"url": "http://127.0.0.1:9", "weight": 1}}}, http.StatusCreated)
	w.must(token, "POST", base+"/routes", map[string]any{"name": slug + "-route", "paths": []string{"/"}, "upstream": slug + "-up"}, http.StatusCreated)
	// The consumer shares the upstream's name, so that pathFor reaches it.
	w.must(token, "POST", base+"/consumers", map[string]any{"name": slug + "-up"}, http.StatusCreated)
	w.must(token, "POST", base+"/consumers/"+slug+"-up/credentials", map[string]any{"type": "key-auth"}, http.StatusCreated)
	w.must(token, "POST", base+"/domains", map[string]any{"hostname": slug + ".example.com"}, http.StatusCreated)

	var binding struct {
		ID string `json:"id"`
	}
	w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": slug + "-plug", "version": "1.0.0", "source": "func access(ctx, conf) {}\n"}, http.StatusCreated)
	w.must(token, "POST", base+"/installs", map[string]any{"plugin": slug + "-plug", "version": "1.0.0"}, http.StatusCreated)
	data := w.must(token, "POST", base+"/bindings", map[string]any{"plugin": "hello", "version": "1.0.0", "route": slug + "-route", "config": map[string]any{}}, http.StatusCreated)
	if err := json.Unmarshal(data, &binding); err != nil {
		w.t.Fatalf("decode binding: %v", err)
	}
	return tenantFixture{slug: slug, owner: owner, token: token, binding: binding.ID}
}

// pathFor fills a route pattern with the fixture's slug and the resource
// names of other.
func pathFor(t *testing.T, pattern string, slug string, other tenantFixture) string {
	t.Helper()

	values := map[string]string{
		":slug": slug,
		":name": other.slug + "-up",
		":id":   other.binding,
		":user": other.owner,
		// Each tenant installs a plugin named after its slug. No plugin
		// of the walk has a namespace, so ":namespace" names none.
		":plugin":    other.slug + "-plug",
		":namespace": "walkns",
		// seedWalkTenant claims this hostname for each tenant.
		":hostname": other.slug + ".example.com",
	}
	segments := strings.Split(pattern, "/")
	for i, segment := range segments {
		if !strings.HasPrefix(segment, ":") {
			continue
		}
		value, found := values[segment]
		if !found {
			t.Fatalf("route %s has parameter %s that the walk cannot fill: add it to pathFor", pattern, segment)
		}
		segments[i] = value
	}

	path := strings.Join(segments, "/")
	if strings.Contains(pattern, "/routes/:name") {
		path = strings.Replace(path, "/routes/"+other.slug+"-up", "/routes/"+other.slug+"-route", 1)
	}
	return path
}

// validBody returns a body that the handler accepts, so that a request
// reaches the store's tenant-scoped lookup instead of failing validation.
func validBody(t *testing.T, method, pattern string, own tenantFixture) any {
	t.Helper()

	if method == "GET" || method == "HEAD" || method == "DELETE" {
		return nil
	}
	bodies := map[string]any{
		"PUT /api/v1/tenants/:slug":                 map[string]any{"name": "renamed"},
		"POST /api/v1/tenants/:slug/upstreams":      map[string]any{"name": "new-up", "targets": []map[string]any{{"url": "http://127.0.0.1:9"}}},
		"PUT /api/v1/tenants/:slug/upstreams/:name": map[string]any{"targets": []map[string]any{{"url": "http://127.0.0.1:9"}}},
		"POST /api/v1/tenants/:slug/routes":         map[string]any{"name": "new-route", "paths": []string{"/x"}, "upstream": own.slug + "-up"},
		"PUT /api/v1/tenants/:slug/routes/:name":    map[string]any{"paths": []string{"/y"}, "upstream": own.slug + "-up"},
		"POST /api/v1/tenants/:slug/bindings":       map[string]any{"plugin": "hello", "version": "1.0.0", "config": map[string]any{}},
		"PATCH /api/v1/tenants/:slug/bindings/:id":  map[string]any{"config": map[string]any{}},
		"POST /api/v1/tenants/:slug/members":        map[string]any{"email": "nobody@example.com", "role": "viewer"},
		"PATCH /api/v1/tenants/:slug/members/:user": map[string]any{"role": "viewer"},
		"POST /api/v1/tenants/:slug/consumers":      map[string]any{"name": "new-consumer"},
		"PUT /api/v1/tenants/:slug/consumers/:name": map[string]any{"description": "changed"},

		"POST /api/v1/tenants/:slug/consumers/:name/credentials": map[string]any{"type": "key-auth"},

		"POST /api/v1/tenants/:slug/installs":                             map[string]any{"plugin": "hello", "version": "1.0.0"},
		"PUT /api/v1/tenants/:slug/installs/:plugin":                      map[string]any{"version": "1.0.0"},
		"PUT /api/v1/tenants/:slug/installs/:namespace/:plugin":           map[string]any{"version": "1.0.0"},
		"POST /api/v1/tenants/:slug/installs/:plugin/rollback":            map[string]any{},
		"POST /api/v1/tenants/:slug/installs/:namespace/:plugin/rollback": map[string]any{},
		"POST /api/v1/tenants/:slug/routes/:name/try":                     map[string]any{"method": "GET", "path": "/"},
		"POST /api/v1/tenants/:slug/apply":                                map[string]any{"upstreams": []map[string]any{{"name": own.slug + "-up", "targets": []map[string]any{{"url": "http://127.0.0.1:9"}}}}},

		"POST /api/v1/tenants/:slug/domains":                      map[string]any{"hostname": "new." + own.slug + ".example.com"},
		"POST /api/v1/tenants/:slug/domains/:hostname/verify":     map[string]any{},
		"PUT /api/v1/tenants/:slug/domains/:hostname/certificate": walkCertificate(t),
	}
	body, found := bodies[method+" "+pattern]
	if !found {
		t.Errorf("no valid body for %s %s: add one to validBody so the walk covers it", method, pattern)
	}
	return body
}

// tenantRoutes lists the app's routes below /api/v1/tenants/:slug.
func tenantRoutes(app *fiber.App) []fiber.Route {
	var routes []fiber.Route
	for _, route := range app.GetRoutes(true) {
		if route.Method == "HEAD" || !strings.HasPrefix(route.Path, "/api/v1/tenants/:slug") {
			continue
		}
		routes = append(routes, route)
	}
	return routes
}

// forEachDialect runs test as a subtest on SQLite and on PostgreSQL, each
// time with the data source of a new, empty database.
func forEachDialect(t *testing.T, test func(t *testing.T, dataSource string)) {
	dialects := []struct {
		name string
		open func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "portal.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
	}
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) { test(t, dialect.open(t)) })
	}
}

func TestTenantIsolationWalk(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dataSource string) {
		walkTenants(t, startWalkServer(t, dataSource))
	})
}

func walkTenants(t *testing.T, w *walkServer) {
	w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": "func access(ctx, conf) {}\n"}, http.StatusCreated)
	a := w.seedWalkTenant("tenant-a", "alice@example.com")
	b := w.seedWalkTenant("tenant-b", "bob@example.com")

	viewerID, viewerToken := w.signupAndLogin("vera@example.com")
	w.must(a.token, "POST", "/api/v1/tenants/tenant-a/members", map[string]string{"email": "vera@example.com", "role": "viewer"}, http.StatusCreated)

	routes := tenantRoutes(w.app)
	if len(routes) < 20 {
		t.Fatalf("found %d tenant routes, want at least 20: the walk lost track of the app's routes", len(routes))
	}

	for _, route := range routes {
		t.Run(route.Method+" "+route.Path+"/other tenant", func(t *testing.T) {
			path := pathFor(t, route.Path, b.slug, b)
			status, body := w.call(a.token, route.Method, path, validBody(t, route.Method, route.Path, b))
			if status != http.StatusNotFound {
				t.Errorf("%s %s as owner of %s: status = %d, want 404; body %s", route.Method, path, a.slug, status, body)
			}
		})

		if strings.Count(route.Path, ":") > 1 {
			t.Run(route.Method+" "+route.Path+"/other resource", func(t *testing.T) {
				path := pathFor(t, route.Path, a.slug, b)
				status, body := w.call(a.token, route.Method, path, validBody(t, route.Method, route.Path, a))
				if status != http.StatusNotFound {
					t.Errorf("%s %s as owner of %s: status = %d, want 404; body %s", route.Method, path, a.slug, status, body)
				}
			})
		}

		if route.Method != "GET" {
			t.Run(route.Method+" "+route.Path+"/viewer", func(t *testing.T) {
				path := pathFor(t, route.Path, a.slug, a)
				status, body := w.call(viewerToken, route.Method, path, validBody(t, route.Method, route.Path, a))
				if status != http.StatusForbidden {
					t.Errorf("%s %s as viewer: status = %d, want 403; body %s", route.Method, path, status, body)
				}
			})
		}
	}

	checkUntouched(t, w, b)
	checkViewerReads(t, w, a, viewerID, viewerToken)
}

// checkUntouched fails when the walk changed tenant b.
func checkUntouched(t *testing.T, w *walkServer, b tenantFixture) {
	t.Helper()

	base := "/api/v1/tenants/" + b.slug
	for _, path := range []string{base, base + "/upstreams/" + b.slug + "-up", base + "/routes/" + b.slug + "-route", base + "/bindings/" + b.binding, base + "/members/" + b.owner, base + "/consumers/" + b.slug + "-up", base + "/domains/" + b.slug + ".example.com", base + "/installs/" + b.slug + "-plug"} {
		if status, body := w.call(walkOperatorToken, "GET", path, nil); status != http.StatusOK {
			t.Errorf("GET %s after the walk: status = %d, want 200; body %s", path, status, body)
		}
	}
	var tenant store.Tenant
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", base, nil, http.StatusOK), &tenant); err != nil {
		t.Fatalf("decode tenant: %v", err)
	}
	if tenant.Name != b.slug {
		t.Errorf("tenant %s name = %q after the walk, want %q", b.slug, tenant.Name, b.slug)
	}
}

// checkViewerReads checks that a viewer reads the tenant but not its audit
// log, and lists only its own tenants.
func checkViewerReads(t *testing.T, w *walkServer, a tenantFixture, viewerID, viewerToken string) {
	t.Helper()

	w.must(viewerToken, "GET", "/api/v1/tenants/"+a.slug+"/upstreams", nil, http.StatusOK)
	w.must(viewerToken, "GET", "/api/v1/tenants/"+a.slug+"/members/"+viewerID, nil, http.StatusOK)
	w.must(viewerToken, "GET", "/api/v1/tenants/"+a.slug+"/audit", nil, http.StatusForbidden)

	var tenants []store.Tenant
	if err := json.Unmarshal(w.must(viewerToken, "GET", "/api/v1/tenants", nil, http.StatusOK), &tenants); err != nil {
		t.Fatalf("decode tenants: %v", err)
	}
	if len(tenants) != 1 || tenants[0].Slug != a.slug {
		t.Errorf("viewer's tenant list = %+v, want only %s", tenants, a.slug)
	}
}

func TestOperatorOnlyRoutes(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	_, token := w.signupAndLogin("user@example.com")

	tests := []struct {
		name   string
		method string
		path   string
		token  string
		want   int
	}{
		{"user deletes plugin version", "DELETE", "/api/v1/plugins/hello/versions/1.0.0", token, http.StatusForbidden},
		{"user lists edges", "GET", "/api/v1/edges", token, http.StatusForbidden},
		{"user creates edge token", "POST", "/api/v1/edge-tokens", token, http.StatusForbidden},
		{"user reads whole audit log", "GET", "/api/v1/audit", token, http.StatusForbidden},
		{"user lists plugins", "GET", "/api/v1/plugins", token, http.StatusOK},
		{"operator lists tokens", "GET", "/api/v1/tokens", walkOperatorToken, http.StatusForbidden},
		{"operator reads whole audit log", "GET", "/api/v1/audit", walkOperatorToken, http.StatusOK},
		{"no token", "GET", "/api/v1/tenants", "", http.StatusUnauthorized},
		{"unknown user token", "GET", "/api/v1/tenants", accounts.PersonalTokenPrefix + strings.Repeat("0", 64), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := w.call(tt.token, tt.method, tt.path, map[string]any{})
			if tt.method == "GET" || tt.method == "DELETE" {
				status, body = w.call(tt.token, tt.method, tt.path, nil)
			}
			if status != tt.want {
				t.Errorf("%s %s: status = %d, want %d; body %s", tt.method, tt.path, status, tt.want, body)
			}
		})
	}
}

func TestAccessRule(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		want   rule
	}{
		{"list tenants", "GET", "/api/v1/tenants", rule{}},
		{"create tenant", "POST", "/api/v1/tenants", rule{}},
		{"read tenant", "GET", "/api/v1/tenants/acme", rule{tenant: "acme", role: accounts.RoleViewer}},
		{"rename tenant", "PUT", "/api/v1/tenants/acme", rule{tenant: "acme", role: accounts.RoleAdmin}},
		{"delete tenant", "DELETE", "/api/v1/tenants/acme", rule{tenant: "acme", role: accounts.RoleOwner}},
		{"change route", "PUT", "/api/v1/tenants/acme/routes/all", rule{tenant: "acme", role: accounts.RoleDeveloper}},
		{"add member", "POST", "/api/v1/tenants/acme/members", rule{tenant: "acme", role: accounts.RoleAdmin}},
		{"read members", "GET", "/api/v1/tenants/acme/members", rule{tenant: "acme", role: accounts.RoleViewer}},
		{"read audit", "GET", "/api/v1/tenants/acme/audit", rule{tenant: "acme", role: accounts.RoleAdmin}},
		{"read plugins", "GET", "/api/v1/plugins/hello", rule{}},
		{"publish plugin", "POST", "/api/v1/plugins", rule{}},
		{"yank plugin version", "POST", "/api/v1/plugins/acme/auth/versions/1.0.0/yank", rule{}},
		{"create namespace", "POST", "/api/v1/namespaces", rule{}},
		{"delete plugin version", "DELETE", "/api/v1/plugins/hello/versions/1.0.0", rule{operatorOnly: true}},
		{"install plugin", "POST", "/api/v1/tenants/acme/installs", rule{tenant: "acme", role: accounts.RoleDeveloper}},
		{"try route", "POST", "/api/v1/tenants/acme/routes/all/try", rule{tenant: "acme", role: accounts.RoleDeveloper}},
		{"tokens", "POST", "/api/v1/tokens", rule{userOnly: true}},
		{"unknown path", "GET", "/api/v1/something-new", rule{operatorOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accessRule(tt.method, tt.path); got != tt.want {
				t.Errorf("accessRule(%s, %s) = %+v, want %+v", tt.method, tt.path, got, tt.want)
			}
		})
	}
}
