package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/portal"
)

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()

	tests := []struct {
		name string
		cfg  portal.Config
	}{
		{"missing compiler", portal.Config{DataSource: dir + "/a.db", AdminToken: testToken}},
		{"short token", portal.Config{DataSource: dir + "/b.db", AdminToken: "short", Compiler: fakeCompile}},
		{"empty token", portal.Config{DataSource: dir + "/c.db", Compiler: fakeCompile}},
		{"memory data source", portal.Config{DataSource: ":memory:", AdminToken: testToken, Compiler: fakeCompile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := portal.New(tt.cfg)
			if err == nil {
				t.Fatalf("New() = %v, want an error", p)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestHealthzNeedsNoToken(t *testing.T) {
	tp := startPortal(t)
	empty := ""

	resp := tp.send(request{method: "GET", path: "/healthz", token: &empty})

	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	if got := string(resp.body); got != `{"status":"ok"}` {
		t.Errorf("body = %s, want {\"status\":\"ok\"}", got)
	}
}

func TestAuthRejectsMissingOrWrongToken(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	before := tp.revision("acme")

	missing, wrong, prefix := "", "wrong-token-0123456789", testToken[:len(testToken)-1]
	endpoints := []struct{ method, path, body string }{
		{"GET", "/api/v1/tenants", ""},
		{"POST", "/api/v1/tenants", `{"slug":"evil","name":"Evil"}`},
		{"PUT", "/api/v1/tenants/acme", `{"name":"Evil"}`},
		{"DELETE", "/api/v1/tenants/acme", ""},
		{"GET", "/api/v1/tenants/acme/upstreams", ""},
		{"DELETE", "/api/v1/tenants/acme/routes/all", ""},
		{"GET", "/api/v1/plugins", ""},
		{"POST", "/api/v1/plugins", `{"name":"evil","version":"1.0.0","source":"x"}`},
		{"GET", "/api/v1/no-such-path", ""},
	}
	tokens := []struct {
		name   string
		token  *string
		header map[string]string
	}{
		{name: "missing", token: &missing},
		{name: "wrong", token: &wrong},
		{name: "prefix of the real token", token: &prefix},
		{name: "basic scheme", token: &missing, header: map[string]string{"Authorization": "Basic " + testToken}},
	}

	for _, endpoint := range endpoints {
		for _, tok := range tokens {
			t.Run(endpoint.method+" "+endpoint.path+" "+tok.name, func(t *testing.T) {
				var body any
				if endpoint.body != "" {
					body = endpoint.body
				}

				resp := tp.send(request{method: endpoint.method, path: endpoint.path, body: body, token: tok.token, header: tok.header})

				checkProblem(t, resp, http.StatusUnauthorized, "")
				if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
				}
				if strings.Contains(string(resp.body), testToken) || strings.Contains(string(resp.body), wrong) {
					t.Errorf("response %s contains a token", resp.body)
				}
			})
		}
	}

	if got := tp.revision("acme"); got != before {
		t.Errorf("revision = %d, want unchanged %d", got, before)
	}
	tenants := decodeInto[[]map[string]any](t, tp.do("GET", "/api/v1/tenants", nil, http.StatusOK))
	if len(tenants) != 1 {
		t.Errorf("tenants = %v, want only acme", tenants)
	}
}

func TestLogsCarryRequestIDAndNoToken(t *testing.T) {
	tp := startPortal(t)
	wrong := "wrong-token-abcdefghijkl"

	tp.seed("acme")
	tp.send(request{method: "GET", path: "/api/v1/tenants/acme", token: &wrong})
	resp := tp.send(request{method: "GET", path: "/api/v1/tenants/acme", header: map[string]string{"X-Request-ID": "req-42"}})

	if got := resp.header.Get("X-Request-ID"); got != "req-42" {
		t.Errorf("X-Request-ID = %q, want req-42", got)
	}
	logs := tp.logs.String()
	for _, secret := range []string{testToken, wrong} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the token %q", secret)
		}
	}
	for _, want := range []string{`"request_id":"req-42"`, `"tenant":"acme"`, `"status":401`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
	}{
		{"unknown api path", "GET", "/api/v1/nothing", http.StatusNotFound},
		{"unknown top path", "GET", "/nothing", http.StatusNotFound},
		{"trailing slash", "GET", "/api/v1/tenants/", http.StatusNotFound},
		{"method not allowed", "PATCH", "/api/v1/tenants/acme", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tp.send(request{method: tt.method, path: tt.path})
			checkProblem(t, resp, tt.wantStatus, "")
		})
	}
}

func TestIndexPageLanguage(t *testing.T) {
	tp := startPortal(t)
	empty := ""

	tests := []struct {
		name           string
		path           string
		acceptLanguage string
		wantLang       string
		wantSwitch     string
	}{
		{"default is English", "/", "", "en", "/?lang=zh-CN"},
		{"English header", "/", "en-US,en;q=0.9", "en", "/?lang=zh-CN"},
		{"plain zh", "/", "zh", "zh-CN", "/?lang=en"},
		{"traditional Chinese maps to zh-CN", "/", "zh-TW", "zh-CN", "/?lang=en"},
		{"weights decide", "/", "fr;q=1, en;q=0.4, zh;q=0.8", "zh-CN", "/?lang=en"},
		{"unsupported only", "/", "fr, de", "en", "/?lang=zh-CN"},
		{"query wins over header", "/?lang=en", "zh-CN", "en", "/?lang=zh-CN"},
		{"query selects Chinese", "/?lang=zh-CN", "en", "zh-CN", "/?lang=en"},
		{"unknown query falls back", "/?lang=xx", "zh", "zh-CN", "/?lang=en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tp.send(request{method: "GET", path: tt.path, token: &empty, header: map[string]string{"Accept-Language": tt.acceptLanguage}})

			if resp.status != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.status)
			}
			if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", got)
			}
			if got := resp.header.Get("Content-Language"); got != tt.wantLang {
				t.Errorf("Content-Language = %q, want %q", got, tt.wantLang)
			}
			page := string(resp.body)
			if !strings.Contains(page, `<html lang="`+tt.wantLang+`">`) {
				t.Errorf("page lacks <html lang=%q>", tt.wantLang)
			}
			if !strings.Contains(page, `href="`+tt.wantSwitch+`"`) {
				t.Errorf("page lacks the switch link %q", tt.wantSwitch)
			}
			for _, link := range []string{`href="/healthz"`, "/api/v1", "docs/api.md"} {
				if !strings.Contains(page, link) {
					t.Errorf("page lacks %s", link)
				}
			}
			if strings.Contains(page, testToken) {
				t.Error("page contains the admin token")
			}
		})
	}
}
