package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

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
		return []FieldIssue{{Field: fieldErr.Field, Message: fieldErr.Message}}
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
func writeProblem(c *fiber.Ctx, err error) error {
	problem := *problemFor(err)
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
