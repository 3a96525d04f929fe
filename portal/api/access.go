package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/i18n"
	"portcullis.dev/portal/store"
)

// Keys of the caller's identity in fiber.Ctx.Locals.
const (
	localPrincipal = "portcullis.principal"
	localRole      = "portcullis.role"
)

// principal is who sent a request: the operator, or a user with a token.
type principal struct {
	operator bool
	user     store.User
	// tokenID is the public id of the user's token.
	tokenID string
}

// actor names the principal in the audit log and the request log.
func (p principal) actor() string {
	if p.operator {
		return "operator"
	}
	return p.user.Email
}

func principalOf(c *fiber.Ctx) principal {
	who, _ := c.Locals(localPrincipal).(principal)
	return who
}

// roleOf returns the caller's role in the tenant of the path. The operator
// counts as an owner.
func roleOf(c *fiber.Ctx) accounts.Role {
	if principalOf(c).operator {
		return accounts.RoleOwner
	}
	role, _ := c.Locals(localRole).(accounts.Role)
	return role
}

// unauthorized builds a 401 problem. The format must be a string literal,
// as for newProblemf.
func unauthorized(format string, args ...any) *Problem {
	return newProblemf(http.StatusUnauthorized, "unauthorized", "Unauthorized", format, args...)
}

// forbidden builds a 403 problem. The format must be a string literal, as
// for newProblemf.
func forbidden(format string, args ...any) *Problem {
	return newProblemf(http.StatusForbidden, "forbidden", "Forbidden", format, args...)
}

// authenticate accepts the operator token or a user's personal or session
// token, and keeps the principal for the handlers. It compares the operator
// token's SHA-256 in constant time, and looks user tokens up by SHA-256, so
// neither shows in timing or in the log.
func (h *handlers) authenticate(operatorToken string) fiber.Handler {
	isOperator := operatorCheck(operatorToken)

	return func(c *fiber.Ctx) error {
		scheme, sent, found := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
		if !found || !strings.EqualFold(scheme, "Bearer") {
			return unauthorized("missing bearer token: send the header Authorization: Bearer <token>")
		}
		sent = strings.TrimSpace(sent)

		if isOperator(sent) {
			c.Locals(localPrincipal, principal{operator: true})
			return c.Next()
		}
		if !accounts.IsUserToken(sent) {
			return unauthorized("invalid bearer token: send the operator token, or a token from POST /api/v1/login or POST /api/v1/tokens")
		}

		user, tokenID, err := h.store.AuthenticateToken(requestContext(c), accounts.HashToken(sent))
		if errors.Is(err, store.ErrNotFound) {
			return unauthorized("invalid, revoked or expired token: log in again with POST /api/v1/login")
		}
		if err != nil {
			return err
		}

		c.Locals(localPrincipal, principal{user: user, tokenID: tokenID})
		return c.Next()
	}
}

// rule is the access that one request needs.
type rule struct {
	// operatorOnly requests are rejected for users.
	operatorOnly bool
	// userOnly requests are rejected for the operator, who has no account.
	userOnly bool
	// tenant is the slug whose membership the request needs, if any.
	tenant string
	// role is the minimum role in tenant.
	role accounts.Role
}

// accessRule maps a request to the access it needs. A path that no case
// names is for the operator alone, so a new endpoint stays closed to users
// until a case opens it.
func accessRule(method, path string) rule {
	segments := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")
	read := method == fiber.MethodGet || method == fiber.MethodHead

	switch {
	case len(segments) == 1 && segments[0] == "tenants":
		return rule{}
	case segments[0] == "tenants":
		return rule{tenant: segments[1], role: tenantRole(method, segments[2:])}
	case segments[0] == "plugins" && read:
		return rule{}
	case segments[0] == "plugins" && method != fiber.MethodDelete, segments[0] == "namespaces":
		// Publishing, marking and namespace changes check the caller's
		// namespace membership in the store.
		return rule{}
	case segments[0] == "tokens" || (len(segments) == 1 && segments[0] == "me"):
		return rule{userOnly: true}
	}
	return rule{operatorOnly: true}
}

// tenantRole returns the minimum role for a request below
// /api/v1/tenants/{slug}, given the path segments after the slug.
func tenantRole(method string, rest []string) accounts.Role {
	read := method == fiber.MethodGet || method == fiber.MethodHead

	switch {
	case len(rest) > 0 && rest[0] == "audit":
		return accounts.RoleAdmin
	case read:
		return accounts.RoleViewer
	case len(rest) == 0 && method == fiber.MethodDelete:
		return accounts.RoleOwner
	case len(rest) == 0, rest[0] == "members":
		return accounts.RoleAdmin
	}
	return accounts.RoleDeveloper
}

// authorize rejects a request that the principal may not make. For a user
// outside the path's tenant it returns the tenant's 404, exactly like a
// tenant that does not exist.
func (h *handlers) authorize(c *fiber.Ctx) error {
	who := principalOf(c)
	need := accessRule(c.Method(), c.Path())

	if who.operator {
		if need.userOnly {
			return forbidden("the operator token belongs to no account: log in as a user with POST /api/v1/login")
		}
		return c.Next()
	}

	if need.operatorOnly {
		return forbidden("%s %s is for the operator only: ask the operator of this portal", c.Method(), c.Path())
	}
	if need.tenant == "" {
		return c.Next()
	}

	role, err := h.store.MemberRole(requestContext(c), need.tenant, who.user.ID)
	if err != nil {
		return err
	}
	if !role.Allows(need.role) {
		return forbidden("your role in tenant %q is %s, and %s %s needs %s or above: ask an owner or admin of the tenant",
			need.tenant, i18n.Term(role), c.Method(), c.Path(), i18n.Term(need.role))
	}

	c.Locals(localRole, role)
	return c.Next()
}
