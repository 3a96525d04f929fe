package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// fakeCompile fails every source with a compile error on line 2, the way
// the plugin host reports a syntax error.
func fakeCompile(name, version, source string) error {
	return &store.CompileError{Line: 2, Column: 7, Message: "unexpected end of input"}
}

func TestProblemForMapsErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantFields []string
	}{
		{"field error", &config.FieldError{Field: "slug", Message: "bad"}, 422, "invalid-fields", []string{"slug"}},
		{"wrapped field error", fmt.Errorf("create: %w", &config.FieldError{Field: "name", Message: "bad"}), 422, "invalid-fields", []string{"name"}},
		{"joined field errors", errors.Join(&config.FieldError{Field: "config.a", Message: "x"}, &config.FieldError{Field: "config.b", Message: "y"}), 422, "invalid-fields", []string{"config.a", "config.b"}},
		{"compile error", fakeCompile("p", "1.0.0", "x"), 422, "compile-error", []string{"source"}},
		{"not found", &store.NotFoundError{Resource: "route", Name: "all"}, 404, "not-found", nil},
		{"tenant not found wrapped", fmt.Errorf("build bundle: %w", &store.NotFoundError{Resource: "tenant", Name: "x"}), 404, "not-found", nil},
		{"conflict", &store.ConflictError{Message: "in use", Dependents: []string{`route "all"`}}, 409, "conflict", nil},
		{"fiber not found", fiber.ErrNotFound, 404, "not-found", nil},
		{"fiber body too large", fiber.ErrRequestEntityTooLarge, 413, "body-too-large", nil},
		{"check unavailable", &store.UnavailableError{Err: errors.New("no check worker came free"), RetryAfter: 10 * time.Second}, 503, "unavailable", nil},
		{"check unavailable in a try", &TraceError{Route: "main", Err: &store.UnavailableError{Err: errors.New("no check worker came free")}}, 503, "unavailable", nil},
		{"unknown error", errors.New("disk I/O error at /var/lib/secret"), 500, "internal", nil},
		{"bare bundle sentinel", bundle.ErrTenantNotFound, 500, "internal", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemFor(tt.err)

			if got.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", got.Status, tt.wantStatus)
			}
			if want := problemTypeBase + tt.wantType; got.Type != want {
				t.Errorf("type = %q, want %q", got.Type, want)
			}
			var fields []string
			for _, issue := range got.Errors {
				fields = append(fields, issue.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("fields = %q, want %q", fields, tt.wantFields)
			}
			if got.Errors == nil {
				t.Error("Errors is nil, want an empty list")
			}
		})
	}
}

func TestProblemForCompileErrorKeepsPosition(t *testing.T) {
	got := problemFor(fakeCompile("p", "1.0.0", "let a =\n"))

	if len(got.Errors) != 1 {
		t.Fatalf("errors = %+v, want one", got.Errors)
	}
	issue := got.Errors[0]
	if issue.Line != 2 || issue.Column != 7 {
		t.Errorf("position = %d:%d, want 2:7", issue.Line, issue.Column)
	}
	if want := "line 2, column 7: unexpected end of input"; issue.Message != want {
		t.Errorf("message = %q, want %q", issue.Message, want)
	}
}

func TestWriteProblemSetsRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{
		{"whole seconds", 10 * time.Second, "10"},
		{"part of a second rounds up", 1500 * time.Millisecond, "2"},
		{"zero is one second", 0, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			app.Post("/", func(c *fiber.Ctx) error {
				return writeProblem(c, &store.UnavailableError{Err: errors.New("no check worker came free"), RetryAfter: tt.retryAfter})
			})

			resp, err := app.Test(httptest.NewRequest(http.MethodPost, "/", nil))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503", resp.StatusCode)
			}
			if got := resp.Header.Get(fiber.HeaderRetryAfter); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), "send it again in "+tt.want+" seconds") {
				t.Errorf("body = %s, want a detail that names the wait", body)
			}
			if strings.Contains(string(body), "no check worker came free") {
				t.Errorf("body = %s, want the cause kept for the log only", body)
			}
		})
	}
}

func TestWriteProblemOmitsRetryAfter(t *testing.T) {
	app := fiber.New()
	app.Post("/", func(c *fiber.Ctx) error {
		return writeProblem(c, fakeCompile("p", "1.0.0", "x"))
	})

	resp, err := app.Test(httptest.NewRequest(http.MethodPost, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get(fiber.HeaderRetryAfter); got != "" {
		t.Errorf("Retry-After of a 422 = %q, want none", got)
	}
}

func TestProblemForHidesInternalDetail(t *testing.T) {
	got := problemFor(errors.New("open /var/lib/portal.db: permission denied"))

	if got.Status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", got.Status)
	}
	if strings.Contains(got.Detail, "/var/lib") {
		t.Errorf("detail %q reveals the internal error", got.Detail)
	}
}

func TestCheckContentType(t *testing.T) {
	tests := []struct {
		header string
		wantOK bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"application/merge-patch+json", true},
		{"", false},
		{"text/plain", false},
		{"application/jsonx", false},
		{"multipart/form-data; boundary=x", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			err := checkContentType(tt.header)
			if gotOK := err == nil; gotOK != tt.wantOK {
				t.Errorf("checkContentType(%q) error = %v, want ok %v", tt.header, err, tt.wantOK)
			}
		})
	}
}

func TestNewAppRejectsShortToken(t *testing.T) {
	_, err := NewApp(Options{Store: &store.Store{}, AdminToken: "too-short"})
	if err == nil {
		t.Fatal("NewApp() error = nil, want an error for a short token")
	}
	if strings.Contains(err.Error(), "too-short") {
		t.Errorf("error %q contains the token", err)
	}
}
