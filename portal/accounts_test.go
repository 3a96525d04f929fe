package portal_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

const testPassword = "a long passphrase for tests"

// userSession is a signed-up user with a login token.
type userSession struct {
	id    string
	token string
}

// recorded collects every response body of a test, to search for secrets.
type recorded struct {
	bodies []string
}

func (r *recorded) send(tp *testPortal, req request) response {
	tp.t.Helper()
	resp := tp.send(req)
	r.bodies = append(r.bodies, string(resp.body))
	return resp
}

func (tp *testPortal) signup(rec *recorded, email string) userSession {
	tp.t.Helper()

	none := ""
	resp := rec.send(tp, request{method: "POST", path: "/api/v1/signup", token: &none, body: map[string]string{"email": email, "password": testPassword, "name": "User " + email}})
	if resp.status != http.StatusCreated {
		tp.t.Fatalf("signup %s: status = %d, want 201; body %s", email, resp.status, resp.body)
	}

	resp = tp.send(request{method: "POST", path: "/api/v1/login", token: &none, body: map[string]string{"email": email, "password": testPassword}})
	if resp.status != http.StatusOK {
		tp.t.Fatalf("login %s: status = %d, want 200; body %s", email, resp.status, resp.body)
	}
	login := decodeInto[struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}](tp.t, resp)
	return userSession{id: login.User.ID, token: login.Token}
}

// as sends a request with the user's token.
func (u userSession) as(method, path string, body any) request {
	return request{method: method, path: path, body: body, token: &u.token}
}

func TestSignupRejectsInvalidFields(t *testing.T) {
	tp := startPortal(t)
	none := ""

	tests := []struct {
		name      string
		body      map[string]string
		wantField string
	}{
		{"short password", map[string]string{"email": "a@example.com", "password": "short", "name": "A"}, "password"},
		{"long password", map[string]string{"email": "a@example.com", "password": strings.Repeat("x", 257), "name": "A"}, "password"},
		{"bad email", map[string]string{"email": "not an email", "password": testPassword, "name": "A"}, "email"},
		{"missing name", map[string]string{"email": "a@example.com", "password": testPassword, "name": " "}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tp.send(request{method: "POST", path: "/api/v1/signup", token: &none, body: tt.body})
			checkProblem(t, resp, http.StatusUnprocessableEntity, tt.wantField)
			if strings.Contains(string(resp.body), tt.body["password"]) {
				t.Errorf("problem %s repeats the password", resp.body)
			}
		})
	}

	rec := &recorded{}
	tp.signup(rec, "a@example.com")
	duplicate := tp.send(request{method: "POST", path: "/api/v1/signup", token: &none, body: map[string]string{"email": "A@Example.com", "password": testPassword, "name": "A"}})
	checkProblem(t, duplicate, http.StatusConflict, "")
}

func TestTokenLifecycleKeepsSecrets(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	user := tp.signup(rec, "dev@example.com")

	me := decodeInto[map[string]any](t, rec.send(tp, user.as("GET", "/api/v1/me", nil)))
	if me["email"] != "dev@example.com" || me["id"] != user.id {
		t.Errorf("GET /me = %v, want dev@example.com with id %s", me, user.id)
	}

	created := tp.send(user.as("POST", "/api/v1/tokens", map[string]any{"name": "ci", "expires_in_days": 30}))
	if created.status != http.StatusCreated {
		t.Fatalf("POST /tokens: status = %d, want 201; body %s", created.status, created.body)
	}
	personal := decodeInto[struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}](t, created)
	if !strings.HasPrefix(personal.Token, "pct_") {
		t.Fatalf("token = %q, want the pct_ prefix", personal.Token)
	}

	ci := userSession{id: user.id, token: personal.Token}
	if resp := rec.send(tp, ci.as("GET", "/api/v1/tenants", nil)); resp.status != http.StatusOK {
		t.Errorf("GET /tenants with the new token: status = %d, want 200", resp.status)
	}

	list := decodeInto[[]map[string]any](t, rec.send(tp, user.as("GET", "/api/v1/tokens", nil)))
	if len(list) != 2 {
		t.Fatalf("tokens = %v, want the login session and ci", list)
	}
	if list[1]["name"] != "ci" || list[1]["last_used_at"] == nil {
		t.Errorf("ci token = %v, want name ci with last_used_at set", list[1])
	}

	if resp := rec.send(tp, user.as("DELETE", "/api/v1/tokens/"+personal.ID, nil)); resp.status != http.StatusNoContent {
		t.Errorf("DELETE token: status = %d, want 204", resp.status)
	}
	checkProblem(t, rec.send(tp, ci.as("GET", "/api/v1/tenants", nil)), http.StatusUnauthorized, "")

	other := tp.signup(rec, "other@example.com")
	checkProblem(t, rec.send(tp, other.as("DELETE", "/api/v1/tokens/"+personal.ID, nil)), http.StatusNotFound, "")

	wrong := tp.send(request{method: "POST", path: "/api/v1/login", token: new(string), body: map[string]string{"email": "dev@example.com", "password": "wrong password 123"}})
	rec.bodies = append(rec.bodies, string(wrong.body))
	checkProblem(t, wrong, http.StatusUnauthorized, "")

	checkNoSecret(t, tp, rec, testPassword, personal.Token, user.token)
}

// checkNoSecret fails when a recorded response or the portal log contains
// one of the secrets.
func checkNoSecret(t *testing.T, tp *testPortal, rec *recorded, secrets ...string) {
	t.Helper()

	logs := tp.logs.String()
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("portal log contains a secret (%.8s...)", secret)
		}
		for _, body := range rec.bodies {
			if strings.Contains(body, secret) {
				t.Errorf("response %s contains a secret (%.8s...)", body, secret)
			}
		}
	}
}

func TestLoginRateLimitedPerEmail(t *testing.T) {
	tp := startPortal(t)
	tp.signup(&recorded{}, "target@example.com")
	wrong := map[string]string{"email": "target@example.com", "password": "not the password"}
	none := ""

	// The successful login of signup took one attempt of the five.
	for attempt := 2; attempt <= 5; attempt++ {
		resp := tp.send(request{method: "POST", path: "/api/v1/login", token: &none, body: wrong})
		if resp.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status = %d, want 401; body %s", attempt, resp.status, resp.body)
		}
	}

	resp := tp.send(request{method: "POST", path: "/api/v1/login", token: &none, body: map[string]string{"email": "TARGET@example.com", "password": testPassword}})
	checkProblem(t, resp, http.StatusTooManyRequests, "")
	seconds, err := strconv.Atoi(resp.header.Get("Retry-After"))
	if err != nil || seconds < 1 || seconds > 60 {
		t.Errorf("Retry-After = %q, want 1 to 60 seconds", resp.header.Get("Retry-After"))
	}

	other := tp.send(request{method: "POST", path: "/api/v1/login", token: &none, body: map[string]string{"email": "someone@example.com", "password": testPassword}})
	if other.status != http.StatusUnauthorized {
		t.Errorf("login of another email: status = %d, want 401 because its own limit is untouched", other.status)
	}
}

func TestMembersRoles(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	owner := tp.signup(rec, "owner@example.com")
	admin := tp.signup(rec, "admin@example.com")
	dev := tp.signup(rec, "dev@example.com")
	members := "/api/v1/tenants/acme/members"

	if resp := tp.send(owner.as("POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"})); resp.status != http.StatusCreated {
		t.Fatalf("create tenant: status = %d; body %s", resp.status, resp.body)
	}
	for _, member := range []struct{ email, role string }{{"admin@example.com", "admin"}, {"dev@example.com", "developer"}} {
		if resp := tp.send(owner.as("POST", members, map[string]string{"email": member.email, "role": member.role})); resp.status != http.StatusCreated {
			t.Fatalf("add %s: status = %d; body %s", member.email, resp.status, resp.body)
		}
	}

	tests := []struct {
		name      string
		req       request
		want      int
		wantField string
	}{
		{"unknown email", owner.as("POST", members, map[string]string{"email": "nobody@example.com", "role": "viewer"}), 422, "email"},
		{"unknown role", owner.as("POST", members, map[string]string{"email": "dev@example.com", "role": "boss"}), 422, "role"},
		{"member twice", owner.as("POST", members, map[string]string{"email": "dev@example.com", "role": "viewer"}), 409, ""},
		{"admin grants owner", admin.as("PATCH", members+"/"+dev.id, map[string]string{"role": "owner"}), 403, ""},
		{"admin removes owner", admin.as("DELETE", members+"/"+owner.id, nil), 403, ""},
		{"developer adds member", dev.as("POST", members, map[string]string{"email": "admin@example.com", "role": "viewer"}), 403, ""},
		{"last owner demoted", owner.as("PATCH", members+"/"+owner.id, map[string]string{"role": "admin"}), 409, ""},
		{"last owner removed", owner.as("DELETE", members+"/"+owner.id, nil), 409, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblem(t, tp.send(tt.req), tt.want, tt.wantField)
		})
	}

	if resp := tp.send(admin.as("PATCH", members+"/"+dev.id, map[string]string{"role": "viewer"})); resp.status != http.StatusOK {
		t.Errorf("admin demotes developer: status = %d, want 200; body %s", resp.status, resp.body)
	}
	if resp := tp.send(owner.as("PATCH", members+"/"+admin.id, map[string]string{"role": "owner"})); resp.status != http.StatusOK {
		t.Fatalf("owner promotes admin: status = %d, want 200; body %s", resp.status, resp.body)
	}
	if resp := tp.send(owner.as("DELETE", members+"/"+owner.id, nil)); resp.status != http.StatusNoContent {
		t.Errorf("owner leaves with another owner left: status = %d, want 204; body %s", resp.status, resp.body)
	}
	checkProblem(t, tp.send(owner.as("GET", "/api/v1/tenants/acme", nil)), http.StatusNotFound, "")
}

func TestAuditLogRedactsAndPages(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	rec := &recorded{}
	owner := tp.signup(rec, "owner@example.com")
	tp.do("POST", "/api/v1/tenants/acme/members", map[string]string{"email": "owner@example.com", "role": "owner"}, http.StatusCreated)

	upstream := map[string]any{"targets": []map[string]any{{"url": "http://127.0.0.1:9998", "weight": 2}}}
	if resp := tp.send(owner.as("PUT", "/api/v1/tenants/acme/upstreams/backend", upstream)); resp.status != http.StatusOK {
		t.Fatalf("PUT upstream: status = %d; body %s", resp.status, resp.body)
	}
	tokenResp := tp.send(owner.as("POST", "/api/v1/tokens", map[string]string{"name": "ci"}))
	secret := decodeInto[struct {
		Token string `json:"token"`
	}](t, tokenResp).Token

	page := decodeInto[auditPage](t, rec.send(tp, owner.as("GET", "/api/v1/tenants/acme/audit?limit=100", nil)))
	var put *auditEntry
	for i := range page.Events {
		if page.Events[i].Method == "PUT" {
			put = &page.Events[i]
		}
	}
	if put == nil {
		t.Fatalf("audit = %+v, want the PUT of the upstream", page.Events)
	}
	if put.Actor != "owner@example.com" || put.Resource != "/api/v1/tenants/acme/upstreams/backend" {
		t.Errorf("PUT event = %+v, want actor owner@example.com on the upstream", put)
	}
	if !strings.Contains(string(put.Before), "9999") || !strings.Contains(string(put.After), "9998") {
		t.Errorf("PUT event before = %s, after = %s, want the old and new target", put.Before, put.After)
	}
	if page.Events[0].Actor != "operator" || page.Events[0].Method != "POST" {
		t.Errorf("first event = %+v, want the operator's POST of the tenant", page.Events[0])
	}

	first := decodeInto[auditPage](t, rec.send(tp, owner.as("GET", "/api/v1/tenants/acme/audit?limit=1", nil)))
	second := decodeInto[auditPage](t, rec.send(tp, owner.as("GET", "/api/v1/tenants/acme/audit?limit=1&after="+strconv.FormatInt(first.NextAfter, 10), nil)))
	if len(first.Events) != 1 || len(second.Events) != 1 || second.Events[0].ID <= first.Events[0].ID {
		t.Errorf("pages = %+v then %+v, want one event each in id order", first.Events, second.Events)
	}
	checkProblem(t, tp.send(owner.as("GET", "/api/v1/tenants/acme/audit?limit=0", nil)), http.StatusUnprocessableEntity, "limit")

	all := decodeInto[auditPage](t, rec.send(tp, request{method: "GET", path: "/api/v1/audit?limit=500"}))
	var tokenEvent *auditEntry
	for i := range all.Events {
		if all.Events[i].Method == "POST" && strings.HasPrefix(all.Events[i].Resource, "/api/v1/tokens/") {
			tokenEvent = &all.Events[i]
		}
	}
	if tokenEvent == nil || !strings.Contains(string(tokenEvent.After), `"token":"[REDACTED]"`) {
		t.Errorf("token event = %+v, want the token redacted", tokenEvent)
	}
	checkNoSecret(t, tp, rec, secret, testPassword, owner.token)
}

func TestAuditLogHidesEarlierTenant(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	tp.do("DELETE", "/api/v1/tenants/acme", nil, http.StatusNoContent)

	owner := tp.signup(&recorded{}, "new@example.com")
	if resp := tp.send(owner.as("POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "New Acme"})); resp.status != http.StatusCreated {
		t.Fatalf("create tenant again: status = %d; body %s", resp.status, resp.body)
	}

	page := decodeInto[auditPage](t, tp.send(owner.as("GET", "/api/v1/tenants/acme/audit", nil)))
	if len(page.Events) != 1 || page.Events[0].Actor != "new@example.com" {
		t.Errorf("audit of the new tenant = %+v, want only its own create", page.Events)
	}
}

// auditEntry is the client's view of an audit event.
type auditEntry struct {
	ID       int64   `json:"id"`
	Actor    string  `json:"actor"`
	Method   string  `json:"method"`
	Resource string  `json:"resource"`
	Before   rawJSON `json:"before"`
	After    rawJSON `json:"after"`
}

type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(data []byte) error {
	*r = append((*r)[:0], data...)
	return nil
}

type auditPage struct {
	Events    []auditEntry `json:"events"`
	NextAfter int64        `json:"next_after"`
}
