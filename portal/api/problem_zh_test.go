package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/i18n"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

func TestPrefersChinese(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"zh-CN", true},
		{"zh-TW,en;q=0.5", true},
		{"en-US,zh;q=0.9", false},
		{"en;q=0.3, zh;q=0.8", true},
		{"zh;q=0, en;q=0.1", false},
		{"fr, zh;q=0.5", true},
		{"*", false},
	}
	for _, tt := range tests {
		if got := PrefersChinese(tt.header); got != tt.want {
			t.Errorf("PrefersChinese(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestProblemOfInChinese(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantTitle  string
		wantDetail string
	}{
		{"not found", &store.NotFoundError{Resource: "route", Name: "main"}, "未找到", `未找到路由 "main"`},
		{"fixed detail", unauthorized("missing bearer token: send the header Authorization: Bearer <token>"), "未认证", "缺少 Bearer 令牌"},
		{"one field", &config.FieldError{Field: "targets[0].url", Message: "url is missing"}, "字段无效", "字段 targets[0].url 无效：url is missing"},
		{"two fields", errors.Join(&config.FieldError{Field: "config.count", Message: "too small"}, &config.FieldError{Field: "config.mode", Message: "unknown"}), "字段无效", "2 个字段无效，第一个是字段 config.count：too small"},
		{"role", forbidden("your role in tenant %q is %s, and %s %s needs %s or above: ask an owner or admin of the tenant", "shop", i18n.Term("viewer"), "POST", "/api/v1/tenants/shop/routes", i18n.Term("developer")), "禁止访问", `你在租户 "shop" 中的角色是查看者，而 POST /api/v1/tenants/shop/routes 需要开发者或更高的角色`},
		{"wrapped not found", fmt.Errorf("update route main: %w", &store.NotFoundError{Resource: "upstream", Name: "gone"}), "未找到", `update route main: 未找到上游 "gone"`},
		{"store forbidden", &store.ForbiddenError{Message: `you are not a member of namespace "acme": ask one of its members to add you`, Format: "you are not a member of namespace %q: ask one of its members to add you", Args: []any{"acme"}}, "禁止访问", `你不是命名空间 "acme" 的成员：请联系它的一位成员把你加入`},
		{"body too large", fiberProblem(&fiber.Error{Code: http.StatusRequestEntityTooLarge}), "请求体过大", fmt.Sprintf("请求体超过 %d 字节", MaxBodyBytes)},
		{"revision moved", fmt.Errorf("tenant %q is at revision %d, not %d: %w", "shop", 7, 6, store.ErrRevisionMoved), "冲突", `租户 "shop" 的修订号是 7，而不是计划所依据的 6：其他写入一直在修改该租户，请重新应用`},
		{"compile error", &store.CompileError{Line: 2, Column: 1, File: "plugin.risor", Message: `assigning a call to "box" is not allowed at top level`}, "插件源代码无法编译", `第 2 行第 1 列：plugin.risor 的编译检查未通过：assigning a call to "box" is not allowed at top level`},
		{"check unavailable", &store.UnavailableError{Err: errors.New("no check worker came free"), RetryAfter: 10 * time.Second}, "服务不可用", "请在 10 秒后重新发送"},
		{"internal", errors.New("disk on fire"), "服务器内部错误", "门户处理请求失败"},
		{"name taken", &store.ConflictError{Message: `route "main" already exists in tenant "shop": choose another name or update it with PUT`, Format: "route %q already exists in tenant %q: choose another name or update it with PUT", Args: []any{"main", "shop"}}, "冲突", `租户 "shop" 中已存在路由 "main"`},
		{"in use", &store.ConflictError{Message: `upstream "backend" is in use: delete these routes or point them at another upstream first`, Format: "upstream %q is in use: delete these routes or point them at another upstream first", Args: []any{"backend"}, Dependents: []string{`route "main"`}}, "冲突", `上游 "backend" 正在使用中：请先删除以下路由，或把它们改到其他上游：route "main"`},
		{"conflict without format", &store.ConflictError{Message: "the name is taken"}, "冲突", "the name is taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem := ProblemOf(tt.err, true)
			if problem.Title != tt.wantTitle {
				t.Errorf("title = %q, want %q", problem.Title, tt.wantTitle)
			}
			if !strings.Contains(problem.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", problem.Detail, tt.wantDetail)
			}
			english := ProblemOf(tt.err, false)
			if english.Status != problem.Status || english.Type != problem.Type {
				t.Errorf("Chinese problem %d %s differs from the English %d %s in status or type", problem.Status, problem.Type, english.Status, english.Type)
			}
		})
	}
}

func TestChineseTitlesCoverFixedTitles(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusRequestTimeout} {
		problem := translateProblem(*fiberProblem(&fiber.Error{Code: status}))
		if _, english := chineseTitles[problem.Title]; english || problem.Title == "" {
			t.Errorf("status %d: title %q is not translated", status, problem.Title)
		}
	}
}

// callInLanguage sends a request with the token, Accept-Language and, unless
// body is nil, a JSON body, and decodes the problem of a 422 response.
func callInLanguage(t *testing.T, w *walkServer, token, language, method, path string, body any) Problem {
	t.Helper()
	return problemInLanguage(t, w, token, language, method, path, body, http.StatusUnprocessableEntity)
}

// problemInLanguage is callInLanguage for a response of status want.
func problemInLanguage(t *testing.T, w *walkServer, token, language, method, path string, body any, want int) Problem {
	t.Helper()

	var reader io.Reader
	if body != nil {
		encoded, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		reader = bytes.NewReader(encoded)
	}
	req, err := http.NewRequest(method, w.base+path, reader)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if language != "" {
		req.Header.Set("Accept-Language", language)
	}

	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status = %d, want %d; body %s", method, path, resp.StatusCode, want, data)
	}
	return decodeProblemBody(t, data)
}

func TestFieldMessagesInChinese(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	_, token := w.signupAndLogin("zh@example.com")
	w.must(token, "POST", "/api/v1/tenants", map[string]string{"slug": "zh", "name": "zh"}, http.StatusCreated)

	schema := `{"type":"object","properties":{"port":{"type":"integer","maximum":65535}}}`
	w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "ports", "version": "1.0.0", "source": "// ports", "config_schema": json.RawMessage(schema)}, http.StatusCreated)
	w.must(token, "POST", "/api/v1/tenants/zh/installs", map[string]any{"plugin": "ports", "version": "1.0.0"}, http.StatusCreated)

	tests := []struct {
		name        string
		path        string
		body        any
		wantEnglish string
		wantChinese string
	}{
		{
			name:        "upstream target",
			path:        "/api/v1/tenants/zh/upstreams",
			body:        map[string]any{"name": "up", "targets": []map[string]any{{"url": "ftp://10.0.0.5:65535"}}},
			wantEnglish: `"ftp://10.0.0.5:65535" is not a valid target: use an absolute http:// or https:// URL such as "https://api.example.com:8443"`,
			wantChinese: `"ftp://10.0.0.5:65535" 不是有效的目标：请使用以 http:// 或 https:// 开头的绝对 URL，例如 "https://api.example.com:8443"`,
		},
		{
			name:        "route path",
			path:        "/api/v1/tenants/zh/routes",
			body:        map[string]any{"name": "main", "paths": []string{"/a/%41"}, "upstream": "up"},
			wantEnglish: `"/a/%41" contains percent-encoding: write the path decoded, as requests are matched after decoding`,
			wantChinese: `"/a/%41" 包含百分号编码：请写解码后的路径，因为请求在解码后才匹配`,
		},
		{
			name:        "binding config schema",
			path:        "/api/v1/tenants/zh/bindings",
			body:        map[string]any{"plugin": "ports", "config": map[string]any{"port": 70000}},
			wantEnglish: "does not match the plugin's config_schema: maximum: got 70,000, want 65,535",
			wantChinese: "不符合插件的 config_schema：值为 70000，不能大于最大值 65535",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			english := callInLanguage(t, w, token, "", "POST", tt.path, tt.body)
			if len(english.Errors) == 0 || english.Errors[0].Message != tt.wantEnglish {
				t.Fatalf("English errors = %+v, want the first message %q", english.Errors, tt.wantEnglish)
			}

			chinese := callInLanguage(t, w, token, "zh-CN,en;q=0.5", "POST", tt.path, tt.body)
			if len(chinese.Errors) == 0 {
				t.Fatalf("Chinese problem has no errors: %+v", chinese)
			}
			first := chinese.Errors[0]
			if first.Message != tt.wantChinese {
				t.Errorf("Chinese message = %q, want %q", first.Message, tt.wantChinese)
			}
			if first.Field != english.Errors[0].Field {
				t.Errorf("Chinese field = %q, want the English field %q", first.Field, english.Errors[0].Field)
			}
			if !strings.HasSuffix(chinese.Detail, "："+tt.wantChinese) {
				t.Errorf("Chinese detail = %q, want it to end with the translated message", chinese.Detail)
			}
		})
	}
}

func TestRequestChecksInChinese(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	_, token := w.signupAndLogin("checks@example.com")
	w.must(token, "POST", "/api/v1/tenants", map[string]string{"slug": "checks", "name": "checks"}, http.StatusCreated)

	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		wantField   string
		wantEnglish string
		wantChinese string
	}{
		{
			name:        "list limit",
			method:      "GET",
			path:        "/api/v1/tenants/checks/routes?limit=0",
			wantField:   "limit",
			wantEnglish: fmt.Sprintf(`limit "0" is not an integer from 1 to %d: send a page size in that range`, store.MaxPageSize),
			wantChinese: fmt.Sprintf(`limit "0" 不是 1 到 %d 之间的整数：请发送该范围内的每页条数`, store.MaxPageSize),
		},
		{
			name:        "short password",
			method:      "POST",
			path:        "/api/v1/signup",
			body:        map[string]string{"email": "short@example.com", "password": "hunter2", "name": "Short"},
			wantField:   "password",
			wantEnglish: "password is 7 bytes, below the minimum of 12: choose a longer passphrase",
			wantChinese: "密码只有 7 字节，低于下限 12：请选择更长的密码短语",
		},
		{
			name:        "unknown role",
			method:      "POST",
			path:        "/api/v1/tenants/checks/members",
			body:        map[string]string{"email": "checks@example.com", "role": "boss"},
			wantField:   "role",
			wantEnglish: `role "boss" is unknown: use owner, admin, developer or viewer`,
			wantChinese: `未知角色 "boss"：请使用 owner（所有者）、admin（管理员）、developer（开发者）或 viewer（查看者）`,
		},
		{
			name:        "JSON type",
			method:      "POST",
			path:        "/api/v1/tokens",
			body:        map[string]any{"name": "ci", "expires_in_days": 1.5},
			wantField:   "expires_in_days",
			wantEnglish: "wrong type: got a JSON number 1.5, want an integer",
			wantChinese: "类型错误：收到的是 JSON 数字 1.5，应为整数",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			english := callInLanguage(t, w, token, "", tt.method, tt.path, tt.body)
			if len(english.Errors) != 1 {
				t.Fatalf("English errors = %+v, want one", english.Errors)
			}
			if english.Errors[0].Field != tt.wantField {
				t.Errorf("English field = %q, want %q", english.Errors[0].Field, tt.wantField)
			}
			if english.Errors[0].Message != tt.wantEnglish {
				t.Errorf("English message = %q, want %q", english.Errors[0].Message, tt.wantEnglish)
			}

			chinese := callInLanguage(t, w, token, "zh-CN", tt.method, tt.path, tt.body)
			if len(chinese.Errors) != 1 {
				t.Fatalf("Chinese errors = %+v, want one", chinese.Errors)
			}
			if chinese.Errors[0].Field != tt.wantField {
				t.Errorf("Chinese field = %q, want %q", chinese.Errors[0].Field, tt.wantField)
			}
			if chinese.Errors[0].Message != tt.wantChinese {
				t.Errorf("Chinese message = %q, want %q", chinese.Errors[0].Message, tt.wantChinese)
			}
		})
	}
}

func TestDetailsInChinese(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	ownerID, token := w.signupAndLogin("detail@example.com")
	base := "/api/v1/tenants/detail"
	w.must(token, "POST", "/api/v1/tenants", map[string]string{"slug": "detail", "name": "detail"}, http.StatusCreated)
	w.must(token, "POST", base+"/upstreams", map[string]any{"name": "up", "targets": []map[string]any{{"url": "http://127.0.0.1:9"}}}, http.StatusCreated)
	w.must(token, "POST", base+"/routes", map[string]any{"name": "main", "paths": []string{"/"}, "upstream": "up"}, http.StatusCreated)

	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		status      int
		wantEnglish string
		wantChinese string
	}{
		{
			name:        "tenant taken",
			method:      "POST",
			path:        "/api/v1/tenants",
			body:        map[string]string{"slug": "detail", "name": "again"},
			status:      http.StatusConflict,
			wantEnglish: `tenant "detail" already exists: choose another slug or update it with PUT`,
			wantChinese: `租户 "detail" 已存在：请换一个标识，或用 PUT 更新它`,
		},
		{
			name:        "upstream in use",
			method:      "DELETE",
			path:        base + "/upstreams/up",
			status:      http.StatusConflict,
			wantEnglish: `upstream "up" is in use: delete these routes or point them at another upstream first: route "main"`,
			wantChinese: `上游 "up" 正在使用中：请先删除以下路由，或把它们改到其他上游：route "main"`,
		},
		{
			name:        "last owner",
			method:      "DELETE",
			path:        base + "/members/" + ownerID,
			status:      http.StatusConflict,
			wantEnglish: `cannot remove the last owner of tenant "detail": make another member owner first`,
			wantChinese: `不能移除租户 "detail" 的最后一位所有者：请先把另一位成员设为所有者`,
		},
		{
			name:        "route not found",
			method:      "GET",
			path:        base + "/routes/nope",
			status:      http.StatusNotFound,
			wantEnglish: `route "nope" not found`,
			wantChinese: `未找到路由 "nope"`,
		},
		{
			name:        "operator only",
			method:      "GET",
			path:        "/api/v1/edge-tokens",
			status:      http.StatusForbidden,
			wantEnglish: "GET /api/v1/edge-tokens is for the operator only: ask the operator of this portal",
			wantChinese: "GET /api/v1/edge-tokens 仅限运维人员：请联系本门户的运维人员",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			english := problemInLanguage(t, w, token, "", tt.method, tt.path, tt.body, tt.status)
			if english.Detail != tt.wantEnglish {
				t.Errorf("English detail = %q, want %q", english.Detail, tt.wantEnglish)
			}

			chinese := problemInLanguage(t, w, token, "zh-CN", tt.method, tt.path, tt.body, tt.status)
			if chinese.Detail != tt.wantChinese {
				t.Errorf("Chinese detail = %q, want %q", chinese.Detail, tt.wantChinese)
			}
			if fmt.Sprint(chinese.Dependents) != fmt.Sprint(english.Dependents) {
				t.Errorf("Chinese dependents = %q, want the English %q", chinese.Dependents, english.Dependents)
			}
		})
	}
}
