package ui

import (
	"errors"
	"fmt"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// consoleFix rebuilds a store or API message, given the original's field
// and arguments, with a fix that a console user can carry out.
type consoleFix func(field string, args []any) error

// consoleFixes maps the format of each message that forms can meet, whose
// fix is an API call or an API value, to its console wording. The API keeps
// the original wording for its callers. The role messages name the roles
// as the console's role list does, so that a Chinese page shows the Chinese
// role labels.
var consoleFixes = map[string]consoleFix{
	"tenant %q already exists: choose another slug or update it with PUT": func(_ string, args []any) error {
		return consoleConflict("tenant %q already exists: choose another slug, or rename that tenant on its Settings page", args...)
	},
	"upstream %q already exists in tenant %q: choose another name or update it with PUT": func(_ string, args []any) error {
		return consoleConflict("upstream %q already exists in tenant %q: choose another name, or press Edit next to it in the upstream list", args...)
	},
	"route %q already exists in tenant %q: choose another name or update it with PUT": func(_ string, args []any) error {
		return consoleConflict("route %q already exists in tenant %q: choose another name, or press Edit next to it in the route list", args...)
	},
	"consumer %q already exists in tenant %q: choose another name or update it with PUT": func(_ string, args []any) error {
		return consoleConflict("consumer %q already exists in tenant %q: choose another name, or open it from the consumer list", args...)
	},
	"%q is already a member of tenant %q: change the role with PATCH instead": func(_ string, args []any) error {
		return consoleConflict("%q is already a member of tenant %q: change the role in the member list instead", args...)
	},
	"no account uses %q: ask the person to sign up with POST /api/v1/signup first": func(field string, args []any) error {
		return config.Invalid(field, "no account uses %q: ask the person to create an account on the sign-up page first, then add them", args...)
	},
	"role %q is unknown: use owner, admin, developer or viewer": func(field string, args []any) error {
		return config.Invalid(field, "role %q is unknown: choose owner, admin, developer or viewer in the role list", args...)
	},
	"only an owner can grant the owner role: ask an owner, or choose admin, developer or viewer": func(string, []any) error {
		return consoleForbidden("only an owner can grant the owner role: ask an owner, or choose admin, developer or viewer in the role list")
	},
	"send either version, an exact version such as \"1.2.3\", or range, such as \"^1.2\"": func(string, []any) error {
		return config.Invalid("version", "enter a version such as 1.2.3, or a range such as ^1.2")
	},
	"plugin %q is not installed in tenant %q: send a version, or install the plugin first with POST /api/v1/tenants/%s/installs": func(field string, args []any) error {
		return notInstalled(field, args[0], args[1])
	},
	// The console cannot give a following binding a version, because its
	// edit form keeps the version. Only PATCH with "version" can.
	"bindings follow the install of plugin %q: delete them or give them a version first": func(_ string, args []any) error {
		return consoleConflict("bindings follow the install of plugin %q: delete them on the Bindings page, or pin each to a version through the API with PATCH and \"version\"", args...)
	},
}

// notInstalled returns the console's error for a binding that follows the
// tenant's install of a plugin that the tenant has not installed.
func notInstalled(field string, plugin, tenant any) error {
	return config.Invalid(field, "plugin %q is not installed in tenant %q: install it on the Installs page first, or pin a version", plugin, tenant)
}

// forConsole returns err with each message in consoleFixes replaced by its
// console wording. It keeps the error types, so the problem's status stays
// the same.
func forConsole(err error) error {
	fixed, _ := fixForConsole(err)
	return fixed
}

// fixForConsole rewords err, each error of an errors.Join list, or the
// error that err wraps, and reports whether it changed anything. A wrapper
// whose inner error changed is dropped, because problems read only the
// inner error.
func fixForConsole(err error) (error, bool) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		parts := joined.Unwrap()
		fixed := make([]error, len(parts))
		changed := false
		for i, part := range parts {
			var partChanged bool
			fixed[i], partChanged = fixForConsole(part)
			changed = changed || partChanged
		}
		if !changed {
			return err, false
		}
		return errors.Join(fixed...), true
	}

	if fixed, found := consoleWording(err); found {
		return fixed, true
	}
	if inner := errors.Unwrap(err); inner != nil {
		return fixForConsole(inner)
	}
	return err, false
}

// consoleWording returns the console wording of err itself, and false when
// consoleFixes has none.
func consoleWording(err error) (error, bool) {
	var format, field string
	var args []any
	switch typed := err.(type) {
	case *config.FieldError:
		format, field, args = typed.Format, typed.Field, typed.Args
	case *store.ConflictError:
		format, args = typed.Format, typed.Args
	case *store.ForbiddenError:
		format, args = typed.Format, typed.Args
	default:
		return err, false
	}

	fix, found := consoleFixes[format]
	if !found {
		return err, false
	}
	fixed := fix(field, args)

	// A conflict that blocks a delete keeps the resources that block it,
	// which the message names after its fix.
	var original, reworded *store.ConflictError
	if errors.As(err, &original) && errors.As(fixed, &reworded) && len(reworded.Dependents) == 0 {
		reworded.Dependents = original.Dependents
	}
	return fixed, true
}

// consoleConflict builds a ConflictError with a console wording. The
// format must be a string literal, so that the catalog in
// portcullis.dev/portal/i18n can translate it.
func consoleConflict(format string, args ...any) *store.ConflictError {
	return &store.ConflictError{Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// consoleForbidden builds a ForbiddenError with a console wording. The
// format must be a string literal, as for consoleConflict.
func consoleForbidden(format string, args ...any) *store.ForbiddenError {
	return &store.ForbiddenError{Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}
