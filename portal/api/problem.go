package api

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"
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

	// source is the format behind Detail, which keeps the values for a
	// translation. Its format is empty for a detail without one.
	source detailSource
	// retryAfter, when above zero, is sent as the Retry-After header, in
	// seconds.
	retryAfter int
}

// detailSource is the printf format and values that a detail was built
// from. The prefix is English text that wraps the formatted part, such as
// the step of a declarative apply, and stays as it is.
type detailSource struct {
	prefix string
	format string
	args   []any
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

// newProblemf builds a problem whose detail is format filled with args.
// The format must be a string literal, so that the catalog in
// portcullis.dev/portal/i18n can translate it.
func newProblemf(status int, kind, title, format string, args ...any) *Problem {
	problem := newProblem(status, kind, title, fmt.Sprintf(format, args...))
	problem.source = detailSource{format: format, args: args}
	return problem
}

// keepSource records the format behind the problem's detail when the
// detail ends with message, the text that format and args print. A detail
// that does not end with it keeps no source and is sent in English.
func (p *Problem) keepSource(message, format string, args ...any) *Problem {
	prefix, found := strings.CutSuffix(p.Detail, message)
	if found && format != "" {
		p.source = detailSource{prefix: prefix, format: format, args: args}
	}
	return p
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

	var unavailable *store.UnavailableError
	if errors.As(err, &unavailable) {
		return checksUnavailable(unavailable)
	}

	var compileErr *store.CompileError
	if errors.As(err, &compileErr) {
		return compileProblem(compileErr)
	}

	var vectorErr *store.VectorError
	if errors.As(err, &vectorErr) {
		issue := FieldIssue{Field: "test_vectors", Message: vectorErr.Error()}
		return newProblem(http.StatusUnprocessableEntity, "test-vector-failed", "A test vector failed", vectorErr.Error(), issue)
	}

	var traceErr *TraceError
	if errors.As(err, &traceErr) {
		return newProblem(http.StatusUnprocessableEntity, "plugins-failed", "The route's plugins could not run", traceErr.Error())
	}

	if issues := fieldIssues(err); len(issues) > 0 {
		return invalidFields(issues)
	}

	var (
		conflict     *store.ConflictError
		forbiddenErr *store.ForbiddenError
		notFound     *store.NotFoundError
	)
	switch {
	case errors.Is(err, store.ErrNoSecretKey):
		return newProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", err.Error())
	case errors.As(err, &forbiddenErr):
		problem := newProblem(http.StatusForbidden, "forbidden", "Forbidden", err.Error())
		return problem.keepSource(forbiddenErr.Message, forbiddenErr.Format, forbiddenErr.Args...)
	case errors.Is(err, store.ErrForbidden):
		return newProblem(http.StatusForbidden, "forbidden", "Forbidden", err.Error())
	case errors.As(err, &notFound):
		problem := newProblem(http.StatusNotFound, "not-found", "Not found", err.Error())
		return problem.keepSource(notFound.Error(), "%s %q not found", i18n.Term(notFound.Resource), notFound.Name)
	case errors.Is(err, store.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", "Not found", err.Error())
	case errors.Is(err, store.ErrRevisionMoved):
		return newProblem(http.StatusConflict, "conflict", "Conflict", err.Error()+": other writes keep changing the tenant, so apply again")
	case errors.As(err, &conflict):
		problem := newProblem(http.StatusConflict, "conflict", "Conflict", conflict.Error())
		problem.source = detailSource{format: conflict.Format, args: conflict.Args}
		problem.Dependents = conflict.Dependents
		return problem
	}

	return newProblem(http.StatusInternalServerError, "internal", "Internal server error",
		"the portal failed to handle the request: report the request_id to the operator")
}

// compileProblem builds the 422 problem of plugin source that does not
// compile. The compiler's message stays as it is in every language, and
// the portal's words around it follow the request's language.
func compileProblem(err *store.CompileError) *Problem {
	format, args := err.Format()
	source := &config.FieldError{Field: "source", Message: err.Error(), Format: format, Args: args}
	issue := FieldIssue{Field: "source", Message: err.Error(), Line: err.Line, Column: err.Column, source: source}
	problem := newProblem(http.StatusUnprocessableEntity, "compile-error", "Plugin source does not compile", err.Error(), issue)
	problem.source = detailSource{format: format, args: args}
	return problem
}

// checksUnavailable builds the 503 problem of a plugin check that did not
// run for want of capacity, with the Retry-After that err suggests.
func checksUnavailable(err *store.UnavailableError) *Problem {
	seconds := max(1, int(math.Ceil(err.RetryAfter.Seconds())))
	problem := newProblemf(http.StatusServiceUnavailable, "unavailable", "Service unavailable",
		"no plugin worker was available to run the checks of this request: send it again in %d seconds (see Retry-After)", seconds)
	problem.retryAfter = seconds
	return problem
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
		return newProblemf(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
			"the request body exceeds %d bytes: send a smaller body", MaxBodyBytes)
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
	if problem.retryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(problem.retryAfter))
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
	"The route's plugins could not run":    "路由的插件无法运行",
	"Revision not visible yet":             "修订号尚不可见",
	"Domain not verified":                  "域名未通过验证",
	"DNS lookup failed":                    "DNS 查询失败",
	http.StatusText(http.StatusBadRequest): "错误的请求",
}

// chineseFrame translates a detail that embeds values. The pattern's
// groups fill the format's verbs, in order or by explicit index.
type chineseFrame struct {
	pattern *regexp.Regexp
	format  string
}

// chineseFrames translate the details that other packages build with
// values but without keeping the format.
//
// NOTE: the revision frame matches the text of store.Batch's error plus
// the hint of problemFor. If either changes, that detail stays English.
var chineseFrames = []chineseFrame{
	{regexp.MustCompile(`^too many attempts from this (.+): wait (\d+) seconds \(see Retry-After\) and try again$`),
		"来自此%s的尝试次数过多：请等待 %s 秒（见 Retry-After）后重试"},
	{regexp.MustCompile(`^tenant (".*") is at revision (\d+), not (\d+): the tenant changed since the plan was made: other writes keep changing the tenant, so apply again$`),
		"租户 %s 的修订号是 %s，而不是计划所依据的 %s：其他写入一直在修改该租户，请重新应用"},
}

// domainNotVerified matches the detail of a failed domain verification,
// whose reason is also its field message.
var domainNotVerified = regexp.MustCompile(`^domain (".*") not verified: `)

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

	problem.Detail = translateDetail(problem)
	return problem
}

// translateDetail returns the detail of problem in Simplified Chinese, from
// its source format when it has one, else from the catalog or a frame. It
// returns the English detail when none of them covers it.
func translateDetail(problem Problem) string {
	source := problem.source
	if source.format != "" {
		if translated, found := i18n.Translate(source.format, source.args...); found {
			if len(problem.Dependents) > 0 {
				translated += "：" + strings.Join(problem.Dependents, ", ")
			}
			return source.prefix + translated
		}
	}

	if translated := i18n.Chinese(problem.Detail); translated != problem.Detail {
		return translated
	}
	for _, frame := range chineseFrames {
		match := frame.pattern.FindStringSubmatch(problem.Detail)
		if match == nil {
			continue
		}
		values := make([]any, 0, len(match)-1)
		for _, value := range match[1:] {
			values = append(values, i18n.Term(value).Chinese())
		}
		return fmt.Sprintf(frame.format, values...)
	}
	return problem.Detail
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
