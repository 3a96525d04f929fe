package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// ErrNotFound matches every NotFoundError through errors.Is.
var ErrNotFound = errors.New("not found")

// ErrConflict matches every ConflictError through errors.Is.
var ErrConflict = errors.New("conflict")

// NotFoundError reports a resource that does not exist, or that exists under
// another tenant. A missing tenant also matches bundle.ErrTenantNotFound.
type NotFoundError struct {
	// Resource is the kind, such as "tenant", "route" or "plugin version".
	Resource string
	// Name identifies the resource, such as a slug, a name or a binding id.
	Name string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %q not found", e.Resource, e.Name)
}

// Is matches ErrNotFound, and bundle.ErrTenantNotFound for a tenant.
func (e *NotFoundError) Is(target error) bool {
	if target == ErrNotFound {
		return true
	}
	return target == bundle.ErrTenantNotFound && e.Resource == "tenant"
}

// ConflictError reports a write that clashes with existing data: a name that
// is taken, an immutable plugin version, or a resource that others use.
type ConflictError struct {
	// Message is the English text, Format filled with Args.
	Message string
	// Format is the printf format of Message. It keeps the values apart,
	// so the API can render the message in another language.
	Format string
	Args   []any
	// Dependents lists the resources that block a delete, such as
	// "route \"all\"". It is empty for other conflicts.
	Dependents []string
}

func (e *ConflictError) Error() string {
	if len(e.Dependents) == 0 {
		return e.Message
	}
	return e.Message + ": " + strings.Join(e.Dependents, ", ")
}

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool {
	return target == ErrConflict
}

// conflict builds a ConflictError. The format must be a string literal, so
// that the catalog in portcullis.dev/portal/i18n can translate it.
func conflict(format string, args ...any) *ConflictError {
	return &ConflictError{Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// conflictWith builds a ConflictError for a delete that dependents block.
// The format must be a string literal, as for conflict.
func conflictWith(dependents []string, format string, args ...any) *ConflictError {
	err := conflict(format, args...)
	err.Dependents = dependents
	return err
}

// Compiler checks the source of a plugin version at publish time. It returns
// nil when the source compiles. A *CompileError result gives the position of
// the fault. An *UnavailableError means the check did not run, and the
// store returns it as it is. Any other error rejects the version, with its
// message.
type Compiler func(name, version, source string) error

// UnavailableError reports a check of plugin code that did not run for want
// of capacity, such as a plugin worker that other checks kept busy. It
// does not judge the code or config, so the store passes it on instead of
// rejecting a field, and the API responds with 503 and a Retry-After.
type UnavailableError struct {
	// Err is the cause, for the log.
	Err error
	// RetryAfter is how long the client should wait before it sends the
	// request again.
	RetryAfter time.Duration
}

func (e *UnavailableError) Error() string {
	return e.Err.Error()
}

func (e *UnavailableError) Unwrap() error {
	return e.Err
}

// asUnavailable returns the *UnavailableError in err, or nil.
func asUnavailable(err error) *UnavailableError {
	var unavailable *UnavailableError
	if errors.As(err, &unavailable) {
		return unavailable
	}
	return nil
}

// CompileError reports a syntax or compile error in plugin source. Line and
// Column count from 1, and zero means unknown.
type CompileError struct {
	Line    int
	Column  int
	Message string
	// File names the source file that failed the portal's compile check,
	// such as plugin.risor, or is empty. Error then names the check.
	File string
}

func (e *CompileError) Error() string {
	format, args := e.Format()
	return fmt.Sprintf(format, args...)
}

// Format returns the printf format and values of Error, so that a
// translation can word the parts that are the portal's own.
func (e *CompileError) Format() (string, []any) {
	switch {
	case e.File != "" && e.Line > 0 && e.Column > 0:
		return "line %d, column %d: compile check failed in %s: %s", []any{e.Line, e.Column, e.File, e.Message}
	case e.File != "" && e.Line > 0:
		return "line %d: compile check failed in %s: %s", []any{e.Line, e.File, e.Message}
	case e.File != "":
		return "compile check failed in %s: %s", []any{e.File, e.Message}
	case e.Line > 0 && e.Column > 0:
		return "line %d, column %d: %s", []any{e.Line, e.Column, e.Message}
	case e.Line > 0:
		return "line %d: %s", []any{e.Line, e.Message}
	}
	return "%s", []any{e.Message}
}

// fieldError builds the *config.FieldError that the store returns for an
// invalid reference, so callers handle it like any other invalid field.
// The format must be a string literal, as for config.Invalid.
func fieldError(field, format string, args ...any) error {
	return config.Invalid(field, format, args...)
}

func isNotFound(err error) bool {
	return errors.Is(err, ErrNotFound)
}

// ErrForbidden matches every ForbiddenError through errors.Is.
var ErrForbidden = errors.New("forbidden")

// ForbiddenError reports a change that the caller's role does not allow,
// such as an admin removing an owner.
type ForbiddenError struct {
	// Message is the English text, Format filled with Args.
	Message string
	// Format is the printf format of Message, kept for a translation.
	Format string
	Args   []any
}

func (e *ForbiddenError) Error() string {
	return e.Message
}

// Is matches ErrForbidden.
func (e *ForbiddenError) Is(target error) bool {
	return target == ErrForbidden
}

// forbiddenError builds a ForbiddenError. The format must be a string
// literal, as for conflict.
func forbiddenError(format string, args ...any) *ForbiddenError {
	return &ForbiddenError{Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}
