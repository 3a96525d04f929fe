package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/i18n"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// problemTypeBase prefixes every problem type URI. docs/api.md lists the
// types.
const problemTypeBase = "https://portcullis.dev/problems/"

// Problem is an RFC 9457 problem details object. It is also an error, so a
// handler can return one directly.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RequestID matches the X-Request-ID response header and the portal log.
	RequestID string `json:"request_id,omitempty"`
	// Errors lists the invalid fields. It is [] when no field is to blame.
	Errors []FieldIssue `json:"errors"`
	// Dependents lists the resources that block a delete.
	Dependents []string `json:"dependents,omitempty"`
}

// FieldIssue names one invalid field of a request and how to fix it. Line
// and Column point into plugin source when a compile error is at fault.
type FieldIssue struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`

	// source is the field error behind the issue, which keeps the format
	// and values for a translation. It is nil for issues built here.
	source *config.FieldError
}

func (p *Problem) Error() string {
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

func newProblem(status int, kind, title, detail string, issues ...FieldIssue) *Problem {
	if issues == nil {
		issues = []FieldIssue{}
	}
	return &Problem{Type: problemTypeBase + kind, Title: title, Status: status, Detail: detail, Errors: issues}
}

// problemFor maps any error to its problem and status code. It is the one
// place that decides status codes.
func problemFor(err error) *Problem {
	var problem *Problem
	if errors.As(err, &problem) {
		return problem
	}

	var fiberErr *fiber.Error
	if errors.As(err, &fiberErr) {
		return fiberProblem(fiberErr)
	}

	var compileErr *store.CompileError
	if errors.As(err, &compileErr) {
		issue := FieldIssue{Field: "source", Message: compileErr.Error(), Line: compileErr.Line, Column: compileErr.Column}
		return newProblem(http.StatusUnprocessableEntity, "compile-error", "Plugin source does not compile", compileErr.Error(), issue)
	}

	var vectorErr *store.VectorError
	if errors.As(err, &vectorErr) {
		issue := FieldIssue{Field: "test_vectors", Message: vectorErr.Error()}
		return newProblem(http.StatusUnprocessableEntity, "test-vector-failed", "A test vector failed", vectorErr.Error(), issue)
	}

	if issues := fieldIssues(err); len(issues) > 0 {
		return invalidFields(issues)
	}

	var conflict *store.ConflictError
	switch {
	case errors.Is(err, store.ErrNoSecretKey):
		return newProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", err.Error())
	case errors.Is(err, store.ErrForbidden):
		return newProblem(http.StatusForbidden, "forbidden", "Forbidden", err.Error())
	case errors.Is(err, store.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", "Not found", err.Error())
	case errors.Is(err, store.ErrRevisionMoved):
		return newProblem(http.StatusConflict, "conflict", "Conflict", err.Error()+": other writes keep changing the tenant, so apply again")
	case errors.As(err, &conflict):
		problem := newProblem(http.StatusConflict, "conflict", "Conflict", conflict.Error())
		problem.Dependents = conflict.Dependents
		return problem
	}

	return newProblem(http.StatusInternalServerError, "internal", "Internal server error",
		"the portal failed to handle the request: report the request_id to the operator")
}

// invalidFields builds the 422 problem for field errors.
func invalidFields(issues []FieldIssue) *Problem {
	detail := issues[0].Field + ": " + issues[0].Message
	if len(issues) > 1 {
		detail = fmt.Sprintf("%d fields are invalid; the first is %s", len(issues), detail)
	}
	return newProblem(http.StatusUnprocessableEntity, "invalid-fields", "Invalid fields", detail, issues...)
}

// fieldIssues collects the *config.FieldError values in err, looking through
// errors.Join lists and wrapping.
func fieldIssues(err error) []FieldIssue {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var issues []FieldIssue
		for _, inner := range joined.Unwrap() {
			issues = append(issues, fieldIssues(inner)...)
		}
		return issues
	}

	var fieldErr *config.FieldError
	if errors.As(err, &fieldErr) {
		return []FieldIssue{{Field: fieldErr.Field, Message: fieldErr.Message, source: fieldErr}}
	}
	if wrapped := errors.Unwrap(err); wrapped != nil {
		return fieldIssues(wrapped)
	}
	return nil
}

// fiberProblem maps the errors that Fiber raises before a handler runs.
func fiberProblem(err *fiber.Error) *Problem {
	switch err.Code {
	case http.StatusNotFound:
		return newProblem(http.StatusNotFound, "not-found", "Not found", "no resource at this path")
	case http.StatusMethodNotAllowed:
		return newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "this path does not accept the request method")
	case http.StatusRequestEntityTooLarge:
		return newProblem(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
			fmt.Sprintf("the request body exceeds %d bytes: send a smaller body", MaxBodyBytes))
	case http.StatusRequestHeaderFieldsTooLarge:
		return newProblem(err.Code, "headers-too-large", "Request headers too large", "the request headers exceed the server's buffer: send shorter headers")
	case http.StatusRequestTimeout:
		return newProblem(err.Code, "timeout", "Request timeout", "the request was not received in time")
	}

	if err.Code >= 400 && err.Code < 500 {
		return newProblem(err.Code, "bad-request", http.StatusText(err.Code), err.Message)
	}
	return newProblem(http.StatusInternalServerError, "internal", "Internal server error",
		"the portal failed to handle the request: report the request_id to the operator")
}

// writeProblem writes the problem for err and keeps err for the request log.
// The title, detail and field messages are in Simplified Chinese when
// Accept-Language prefers Chinese to English.
func writeProblem(c *fiber.Ctx, err error) error {
	problem := *problemFor(err)
	if PrefersChinese(c.Get(fiber.HeaderAcceptLanguage)) {
		problem = translateProblem(problem)
		c.Set(fiber.HeaderContentLanguage, "zh-CN")
	}
	c.Vary(fiber.HeaderAcceptLanguage)
	problem.Instance = c.Path()
	problem.RequestID = requestID(c)
	c.Locals(localError, err)

	if problem.Status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="portcullis"`)
	}
	return c.Status(problem.Status).JSON(&problem, "application/problem+json")
}

// errorHandler returns Fiber's error handler. It receives only errors
// that escape the request middleware, such as a body over the limit, so it logs
// them itself.
func errorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		logger.Info("request rejected outside the handlers", "method", c.Method(), "path", c.Path(), "error", err.Error())
		return writeProblem(c, err)
	}
}

// ProblemOf returns the problem that the API sends for err, with its title,
// detail and field messages in Simplified Chinese when chinese is true. The
// web UI shows it when a form fails.
func ProblemOf(err error, chinese bool) Problem {
	problem := *problemFor(err)
	if chinese {
		problem = translateProblem(problem)
	}
	return problem
}

// PrefersChinese reports whether an Accept-Language header gives any
// Chinese range a higher weight than every English range. A range of weight
// 0 counts as absent.
func PrefersChinese(acceptLanguage string) bool {
	chinese, english := -1.0, -1.0
	for _, languageRange := range ParseAcceptLanguage(acceptLanguage) {
		primary, _, _ := strings.Cut(strings.ToLower(languageRange.Tag), "-")
		switch primary {
		case "zh":
			chinese = max(chinese, languageRange.Weight)
		case "en":
			english = max(english, languageRange.Weight)
		}
	}
	return chinese > 0 && chinese > english
}

// chineseTitles translates the fixed problem titles.
var chineseTitles = map[string]string{
	"Unauthorized":                         "未认证",
	"Forbidden":                            "禁止访问",
	"Not found":                            "未找到",
	"Conflict":                             "冲突",
	"Invalid fields":                       "字段无效",
	"Invalid JSON":                         "JSON 无效",
	"Unsupported media type":               "不支持的媒体类型",
	"Method not allowed":                   "不允许的请求方法",
	"Request body too large":               "请求体过大",
	"Request headers too large":            "请求头过大",
	"Request timeout":                      "请求超时",
	"Too many requests":                    "请求过多",
	"Service unavailable":                  "服务不可用",
	"Internal server error":                "服务器内部错误",
	"Plugin source does not compile":       "插件源代码无法编译",
	"A test vector failed":                 "测试向量未通过",
	"Revision not visible yet":             "修订号尚不可见",
	"Domain not verified":                  "域名未通过验证",
	"DNS lookup failed":                    "DNS 查询失败",
	http.StatusText(http.StatusBadRequest): "错误的请求",
}

// chineseDetails translates the fixed problem details.
var chineseDetails = map[string]string{
	"missing bearer token: send the header Authorization: Bearer <token>":                                      "缺少 Bearer 令牌：请发送请求头 Authorization: Bearer <令牌>",
	"invalid bearer token: send the operator token, or a token from POST /api/v1/login or POST /api/v1/tokens": "Bearer 令牌无效：请发送运维令牌，或由 POST /api/v1/login 或 POST /api/v1/tokens 获得的令牌",
	"invalid, revoked or expired token: log in again with POST /api/v1/login":                                  "令牌无效、已吊销或已过期：请用 POST /api/v1/login 重新登录",
	"the operator token belongs to no account: log in as a user with POST /api/v1/login":                       "运维令牌不属于任何账号：请用 POST /api/v1/login 以用户身份登录",
	"wrong email or password: check both, or sign up with POST /api/v1/signup":                                 "电子邮箱或密码错误：请检查两者，或用 POST /api/v1/signup 注册",
	"the portal failed to handle the request: report the request_id to the operator":                           "门户处理请求失败：请把 request_id 报告给运维人员",
	"no resource at this path":                                                 "此路径下没有资源",
	"this path does not accept the request method":                             "此路径不接受该请求方法",
	"the request was not received in time":                                     "未能及时收到请求",
	"the request body is empty: send a JSON object":                            "请求体为空：请发送一个 JSON 对象",
	"the request body has data after the JSON object: send exactly one object": "请求体在 JSON 对象之后还有数据：请只发送一个对象",
	"the request body ends before the JSON object is complete":                 "请求体在 JSON 对象完整之前就结束了",
	"the request headers exceed the server's buffer: send shorter headers":     "请求头超出服务器缓冲区：请发送更短的请求头",
	"the database did not respond to a query: check the portal log":            "数据库没有响应查询：请查看门户日志",
}

// chineseFrame translates a detail that embeds values. The pattern's
// groups fill the format's verbs, in order or by explicit index.
type chineseFrame struct {
	pattern *regexp.Regexp
	format  string
}

var chineseFrames = []chineseFrame{
	{regexp.MustCompile(`^your role in tenant (".*") is (\w+), and (\S+ \S+) needs (\w+) or above: ask an owner or admin of the tenant$`),
		"你在租户 %s 中的角色是%s，而 %s 需要%s或更高的角色：请联系该租户的所有者或管理员"},
	{regexp.MustCompile(`^(\S+ \S+) is for the operator only: ask the operator of this portal$`),
		"%s 仅限运维人员：请联系本门户的运维人员"},
	{regexp.MustCompile(`^too many attempts from this (.+): wait (\d+) seconds \(see Retry-After\) and try again$`),
		"来自此%s的尝试次数过多：请等待 %s 秒（见 Retry-After）后重试"},
	{regexp.MustCompile(`^the request body exceeds (\d+) bytes: send a smaller body$`),
		"请求体超过 %s 字节：请发送更小的请求体"},
	{regexp.MustCompile(`^([a-z ]+) (".*") not found$`),
		"未找到%s %s"},
	{regexp.MustCompile(`^([a-z]+) (".*") already exists in tenant (".*"): choose another name or update it with PUT$`),
		"租户 %[3]s 中已存在%[1]s %[2]s：请换一个名称，或用 PUT 更新它"},
	{regexp.MustCompile(`^tenant (".*") already exists: choose another slug or update it with PUT$`),
		"租户 %s 已存在：请换一个标识，或用 PUT 更新它"},
	{regexp.MustCompile(`^an account for (".*") already exists: log in with POST /api/v1/login instead$`),
		"%s 的账号已存在：请改用 POST /api/v1/login 登录"},
	{regexp.MustCompile(`^hostname (".*") is already claimed by another tenant: a hostname belongs to one tenant, so ask its owner to delete it first$`),
		"主机名 %s 已被另一个租户占用：一个主机名只属于一个租户，请联系其所有者先删除它"},
	{regexp.MustCompile(`^(upstream|route|consumer) (".*") is in use: delete these (routes|bindings) or .* first: (.*)$`),
		"%[1]s %[2]s 正在使用中：请先删除以下%[3]s，或把它们改到其他%[1]s：%[4]s"},
}

// domainNotVerified matches the detail of a failed domain verification,
// whose reason is also its field message.
var domainNotVerified = regexp.MustCompile(`^domain (".*") not verified: `)

// chineseWords translates the words that the frames embed, such as the
// resource kinds of "not found" and the rate limiter's key.
var chineseWords = map[string]string{
	"tenant": "租户", "upstream": "上游", "route": "路由", "binding": "绑定",
	"consumer": "消费者", "credential": "凭据", "plugin": "插件",
	"plugin version": "插件版本", "member": "成员", "user": "用户", "token": "令牌",
	"client address": "客户端地址", "email": "电子邮箱",
	"viewer": "查看者", "developer": "开发者", "admin": "管理员", "owner": "所有者",
	"routes": "路由", "bindings": "绑定",
}

// translateProblem returns the problem with its title, detail and field
// messages in Simplified Chinese. Field names and values stay as they are,
// and a text without a translation stays in English.
func translateProblem(problem Problem) Problem {
	if title, found := chineseTitles[problem.Title]; found {
		problem.Title = title
	}
	problem.Errors = translateIssues(problem.Errors)

	if match := domainNotVerified.FindStringSubmatch(problem.Detail); match != nil && len(problem.Errors) > 0 {
		problem.Detail = fmt.Sprintf("域名 %s 未通过验证：%s", match[1], problem.Errors[0].Message)
		return problem
	}

	if problem.Type == problemTypeBase+"invalid-fields" && len(problem.Errors) > 0 {
		first := problem.Errors[0]
		problem.Detail = fmt.Sprintf("字段 %s 无效：%s", first.Field, first.Message)
		if len(problem.Errors) > 1 {
			problem.Detail = fmt.Sprintf("%d 个字段无效，第一个是字段 %s：%s", len(problem.Errors), first.Field, first.Message)
		}
		return problem
	}

	if detail, found := chineseDetails[problem.Detail]; found {
		problem.Detail = detail
		return problem
	}
	for _, frame := range chineseFrames {
		match := frame.pattern.FindStringSubmatch(problem.Detail)
		if match == nil {
			continue
		}
		values := make([]any, 0, len(match)-1)
		for _, value := range match[1:] {
			if word, found := chineseWords[value]; found {
				value = word
			}
			values = append(values, value)
		}
		problem.Detail = fmt.Sprintf(frame.format, values...)
		break
	}
	return problem
}

// translateIssues returns a copy of issues with Chinese messages, so the
// English problem that an error may hold stays unchanged.
func translateIssues(issues []FieldIssue) []FieldIssue {
	translated := make([]FieldIssue, len(issues))
	for i, issue := range issues {
		if issue.source != nil {
			issue.Message = i18n.FieldMessage(issue.source)
		} else {
			issue.Message = i18n.Chinese(issue.Message)
		}
		translated[i] = issue
	}
	return translated
}
