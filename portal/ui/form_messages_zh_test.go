package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/testcert"
)

// postInLanguage posts a console form with the session's cookie and an
// Accept-Language header, and returns the status and the page.
func (s *consoleSite) postInLanguage(lang, path string, fields url.Values) (int, string) {
	s.t.Helper()
	secret := strings.TrimPrefix(s.cookie, SessionCookie+"=")
	fields.Set(CSRFField, csrfToken(secret))

	req, err := http.NewRequest("POST", s.base+path, strings.NewReader(fields.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", s.cookie)
	req.Header.Set("Accept-Language", lang)
	return s.send(req)
}

// apiInLanguage calls the REST API with the operator token and an
// Accept-Language header.
func (s *consoleSite) apiInLanguage(lang, method, path string, body any) (int, string) {
	s.t.Helper()
	encoded, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}

	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(encoded))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+consoleToken)
	req.Header.Set("Accept-Language", lang)
	return s.send(req)
}

func (s *consoleSite) send(req *http.Request) (int, string) {
	s.t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("read %s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, string(body)
}

var formErrorBlock = regexp.MustCompile(`(?s)<div class="alert" role="alert">.*?</div>|<p class="field-error">.*?</p>`)

// formErrorText returns the text of a page's problem box and field errors,
// without markup.
func formErrorText(page string) string {
	var text strings.Builder
	for _, block := range formErrorBlock.FindAllString(page, -1) {
		text.WriteString(html.UnescapeString(htmlTag.ReplaceAllString(block, " ")))
		text.WriteString("\n")
	}
	return text.String()
}

// checkFormMessage checks that a failed form's errors contain want and
// none of the English words in oldWords, matched as whole words.
func checkFormMessage(t *testing.T, page, want string, oldWords ...string) {
	t.Helper()
	text := formErrorText(page)
	if !strings.Contains(text, want) {
		t.Errorf("form errors lack %q; they are:\n%s", want, text)
	}
	for _, word := range oldWords {
		if containsWords(text, word) {
			t.Errorf("form errors keep the English word %q:\n%s", word, text)
		}
	}
}

// jsonSyntaxWords are the words of encoding/json's syntax errors, such as
// "invalid character '}' looking for beginning of object key string".
var jsonSyntaxWords = []string{"invalid", "character", "looking", "beginning", "unexpected", "input"}

func TestBindingFormJSONSyntaxInChinese(t *testing.T) {
	site := startConsole(t)
	if _, err := site.store.PublishPlugin(context.Background(), store.NewPluginVersion{Name: "freeform", Version: "1.0.0", Source: "// freeform"}); err != nil {
		t.Fatalf("publish freeform: %v", err)
	}

	tests := []struct {
		name        string
		fields      url.Values
		wantChinese string
		wantEnglish string
	}{
		{
			name: "JSON input of a schema form",
			fields: url.Values{"plugin": {"shaper"}, "version": {"1.0.0"}, "enabled": {"true"},
				"config.greeting": {"hi"}, "config.limits.count": {"1"}, "config.rules": {"[{\"a\": 1,\n }]"}},
			wantChinese: "不是有效的 JSON：第 2 行第 2 列出现意外的字符 '}'",
			wantEnglish: "not valid JSON: unexpected '}' at line 2, column 2",
		},
		{
			name:        "whole config as JSON",
			fields:      url.Values{"plugin": {"freeform"}, "version": {"1.0.0"}, "enabled": {"true"}, "config": {`{"a": 1`}},
			wantChinese: "不是有效的 JSON：文本在第 1 行第 8 列就结束了",
			wantEnglish: "not valid JSON: the text ends at line 1, column 8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, page := site.postInLanguage("zh-CN", "/ui/tenants/acme/bindings", tt.fields)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("zh-CN: status = %d, want 422", status)
			}
			checkFormMessage(t, page, tt.wantChinese, jsonSyntaxWords...)

			status, page = site.postInLanguage("en", "/ui/tenants/acme/bindings", tt.fields)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("en: status = %d, want 422", status)
			}
			checkFormMessage(t, page, tt.wantEnglish, "invalid", "character", "looking", "beginning", "input")
		})
	}
}

func TestBindingFormSchemaErrorsInChinese(t *testing.T) {
	site := startConsole(t)

	// The seeded binding of shaper applies to every route, so this one
	// applies to the route "all".
	fields := url.Values{"plugin": {"shaper"}, "version": {"1.0.0"}, "route": {"all"}, "enabled": {"true"},
		"config.greeting": {"hi"}, "config.retries": {"-1"}, "config.limits.count": {"0"}}
	status, page := site.postInLanguage("zh-CN", "/ui/tenants/acme/bindings", fields)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d, want 422; errors:\n%s", status, formErrorText(page))
	}
	checkFormMessage(t, page, "config.retries : 不符合插件的 config_schema：值为 -1，不能小于最小值 0", "minimum", "got", "want")
	checkFormMessage(t, page, "config.limits.count : 不符合插件的 config_schema：值为 0，不能小于最小值 1", "minimum", "got", "want")
}

// keywordSchema has a keyword of each kind that the API test below breaks.
const keywordSchema = `{"type":"object","properties":{
  "name":{"type":"string","maxLength":5,"pattern":"^[a-z]+$"},
  "mode":{"enum":["fast","safe"]},
  "fixed":{"const":"x"},
  "port":{"type":"integer","maximum":65535},
  "size":{"type":["integer","string"]}
},"required":["mode"],"additionalProperties":false}`

func TestBindingSchemaKindsInChineseAPI(t *testing.T) {
	site := startConsole(t)
	if _, err := site.store.PublishPlugin(context.Background(), store.NewPluginVersion{Name: "keywords", Version: "1.0.0", Source: "// keywords", ConfigSchema: json.RawMessage(keywordSchema)}); err != nil {
		t.Fatalf("publish keywords: %v", err)
	}

	tests := []struct {
		name     string
		config   map[string]any
		field    string
		want     string
		oldWords []string
	}{
		{"enum", map[string]any{"mode": "slow"}, "config.mode", `值必须是以下之一："fast"、"safe"`, []string{"value", "must", "one"}},
		{"const", map[string]any{"mode": "fast", "fixed": "y"}, "config.fixed", `值必须是 "x"`, []string{"value", "must"}},
		{"type", map[string]any{"mode": "fast", "size": true}, "config.size", "值的类型是布尔值，应为整数或字符串", []string{"got", "want", "boolean", "integer", "string"}},
		{"maximum", map[string]any{"mode": "fast", "port": 70000}, "config.port", "值为 70000，不能大于最大值 65535", []string{"maximum", "got", "want"}},
		{"maxLength", map[string]any{"mode": "fast", "name": "abcdefg"}, "config.name", "长度为 7 个字符，最多允许 5 个", []string{"maxLength", "got", "want"}},
		{"pattern", map[string]any{"mode": "fast", "name": "AB"}, "config.name", `"AB" 不匹配正则表达式 "^[a-z]+$"`, []string{"does", "match", "pattern"}},
		{"additionalProperties", map[string]any{"mode": "fast", "extra": 1}, "config.extra", "未知属性", []string{"additional", "properties", "allowed"}},
		{"required", map[string]any{}, "config.mode", "缺少此属性", []string{"missing", "property"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"plugin": "keywords", "version": "1.0.0", "config": tt.config}
			status, text := site.apiInLanguage("zh-CN", "POST", "/api/v1/tenants/acme/bindings", body)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status = %d, want 422; body %s", status, text)
			}

			var problem struct {
				Errors []struct{ Field, Message string }
			}
			if err := json.Unmarshal([]byte(text), &problem); err != nil {
				t.Fatalf("decode problem: %v", err)
			}
			message := ""
			for _, issue := range problem.Errors {
				if issue.Field == tt.field && strings.Contains(issue.Message, tt.want) {
					message = issue.Message
				}
			}
			if message == "" {
				t.Fatalf("no error on %s contains %q; errors %+v", tt.field, tt.want, problem.Errors)
			}
			for _, word := range tt.oldWords {
				if containsWords(message, word) {
					t.Errorf("message %q keeps the English word %q", message, word)
				}
			}
		})
	}
}

func TestCertificateKeyMismatchInChinese(t *testing.T) {
	site := startConsole(t)
	if _, err := site.store.CreateDomain(context.Background(), "acme", "api.example.com"); err != nil {
		t.Fatal(err)
	}
	cert := testcert.New(t, "api.example.com")
	other := testcert.New(t, "api.example.com")

	tests := []struct {
		name string
		key  string
		want string
	}{
		{"key of another certificate", other.PrivateKeyPEM, "private_key_pem 与叶证书的公钥不匹配：请使用与该证书配对的私钥"},
		{"certificate in the key field", cert.CertificatePEM, `private_key_pem 包含一个 "CERTIFICATE" PEM 块，但没有私钥`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := url.Values{"certificate_pem": {cert.CertificatePEM}, "private_key_pem": {tt.key}}
			status, page := site.postInLanguage("zh-CN", "/ui/tenants/acme/domains/api.example.com/certificate", fields)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status = %d, want 422", status)
			}
			checkFormMessage(t, page, tt.want, "tls", "private", "public", "does", "match", "found", "rather", "than")
		})
	}
}

func TestRoleMessagesUseChineseLabels(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	if _, err := site.store.CreateUser(ctx, store.NewUser{Email: "bob@example.com", Name: "bob", PasswordHash: "unused"}); err != nil {
		t.Fatal(err)
	}
	roleWords := []string{"owner", "admin", "developer", "viewer"}

	status, page := site.postInLanguage("zh-CN", "/ui/tenants/acme/members", url.Values{"email": {"bob@example.com"}, "role": {"boss"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown role: status = %d, want 422", status)
	}
	checkFormMessage(t, page, `未知角色 "boss"：请在角色列表中选择所有者、管理员、开发者或查看者`, roleWords...)

	site.cookie = site.userCookie("admin@example.com", accounts.RoleAdmin)
	status, page = site.postInLanguage("zh-CN", "/ui/tenants/acme/members", url.Values{"email": {"bob@example.com"}, "role": {"owner"}})
	if status != http.StatusForbidden {
		t.Fatalf("admin grants owner: status = %d, want 403", status)
	}
	checkFormMessage(t, page, "只有所有者才能授予所有者角色：请联系所有者，或在角色列表中选择管理员、开发者或查看者", roleWords...)
}

func TestInstallFormEmptyVersionInChinese(t *testing.T) {
	site := startConsole(t)

	status, page := site.postInLanguage("zh-CN", "/ui/tenants/acme/installs", url.Values{"plugin": {"shaper"}, "version": {""}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d, want 422", status)
	}

	// The problem box names the field "version", as it names every field,
	// so only the field's own message must be free of English words.
	fieldError := regexp.MustCompile(`<p class="field-error">(.*?)</p>`).FindStringSubmatch(page)
	if fieldError == nil {
		t.Fatalf("page has no field error; errors:\n%s", formErrorText(page))
	}
	message := html.UnescapeString(fieldError[1])
	if want := "请填写版本（例如 1.2.3）或版本范围（例如 ^1.2）"; message != want {
		t.Errorf("field error = %q, want %q", message, want)
	}
}

// TestConsoleFixesReplaceAPICalls posts forms whose API message names an
// API call as the fix, and checks that the console names its own fix in
// both languages while the API keeps its wording.
func TestConsoleFixesReplaceAPICalls(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	if _, err := site.store.CreateUser(ctx, store.NewUser{Email: "member@example.com", Name: "member", PasswordHash: "unused"}); err != nil {
		t.Fatal(err)
	}
	if _, err := site.store.AddMember(ctx, "acme", "member@example.com", accounts.RoleViewer, accounts.RoleOwner); err != nil {
		t.Fatal(err)
	}
	apiWords := []string{"PUT", "PATCH", "POST", "api", "signup", "update"}

	tests := []struct {
		name        string
		path        string
		fields      url.Values
		status      int
		wantChinese string
		wantEnglish string
	}{
		{"tenant taken", "/ui/tenants", url.Values{"slug": {"acme"}, "name": {"Acme"}}, http.StatusConflict,
			`租户 "acme" 已存在：请换一个标识，或在该租户的“设置”页面修改它的名称`,
			`tenant "acme" already exists: choose another slug, or rename that tenant on its Settings page`},
		{"upstream taken", "/ui/tenants/acme/upstreams", url.Values{"name": {"backend"}, "targets": {"http://127.0.0.1:9 1"}}, http.StatusConflict,
			`租户 "acme" 中已存在上游 "backend"：请换一个名称，或在上游列表中点击它旁边的“编辑”`,
			`upstream "backend" already exists in tenant "acme": choose another name, or press Edit next to it in the upstream list`},
		{"route taken", "/ui/tenants/acme/routes", url.Values{"name": {"all"}, "paths": {"/"}, "upstream": {"backend"}}, http.StatusConflict,
			`租户 "acme" 中已存在路由 "all"：请换一个名称，或在路由列表中点击它旁边的“编辑”`,
			`route "all" already exists in tenant "acme": choose another name, or press Edit next to it in the route list`},
		{"consumer taken", "/ui/tenants/acme/consumers", url.Values{"name": {"alice"}}, http.StatusConflict,
			`租户 "acme" 中已存在消费者 "alice"：请换一个名称，或从消费者列表中打开它`,
			`consumer "alice" already exists in tenant "acme": choose another name, or open it from the consumer list`},
		{"member already added", "/ui/tenants/acme/members", url.Values{"email": {"member@example.com"}, "role": {"viewer"}}, http.StatusConflict,
			`"member@example.com" 已是租户 "acme" 的成员：请改在成员列表中修改其角色`,
			`"member@example.com" is already a member of tenant "acme": change the role in the member list instead`},
		{"member without account", "/ui/tenants/acme/members", url.Values{"email": {"nobody@example.com"}, "role": {"viewer"}}, http.StatusUnprocessableEntity,
			`没有账号使用 "nobody@example.com"：请让对方先在注册页面创建账号，再把其添加为成员`,
			`no account uses "nobody@example.com": ask the person to create an account on the sign-up page first, then add them`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, page := site.postInLanguage("zh-CN", tt.path, tt.fields)
			if status != tt.status {
				t.Fatalf("zh-CN: status = %d, want %d", status, tt.status)
			}
			checkFormMessage(t, page, tt.wantChinese, apiWords...)

			status, page = site.postInLanguage("en", tt.path, tt.fields)
			if status != tt.status {
				t.Fatalf("en: status = %d, want %d", status, tt.status)
			}
			checkFormMessage(t, page, tt.wantEnglish, apiWords...)
		})
	}

	status, body := site.apiInLanguage("en", "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"})
	if status != http.StatusConflict || !strings.Contains(body, "choose another slug or update it with PUT") {
		t.Errorf("API: status %d, body %s; want 409 with the API's fix", status, body)
	}
}
