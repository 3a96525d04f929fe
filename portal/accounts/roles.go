package accounts

import "portcullis.dev/tenants/config"

// Role is a member's role in one tenant. Each role may do everything that
// the roles below it may do.
type Role string

// Roles, from most to least powerful.
const (
	// RoleOwner also deletes the tenant and grants or removes the owner role.
	RoleOwner Role = "owner"
	// RoleAdmin also renames the tenant, manages members and reads the audit log.
	RoleAdmin Role = "admin"
	// RoleDeveloper also creates, changes and deletes upstreams, routes and
	// bindings.
	RoleDeveloper Role = "developer"
	// RoleViewer reads the tenant's config and members.
	RoleViewer Role = "viewer"
)

// rank orders roles. An unknown role has rank 0 and may do nothing.
var rank = map[Role]int{RoleViewer: 1, RoleDeveloper: 2, RoleAdmin: 3, RoleOwner: 4}

// Allows reports whether r may do what needs role need.
func (r Role) Allows(need Role) bool {
	return rank[r] > 0 && rank[r] >= rank[need]
}

// CheckRole returns the field error on "role" for an unknown role, or nil.
func CheckRole(role Role) *config.FieldError {
	if rank[role] > 0 {
		return nil
	}
	return config.Invalid("role", "role %q is unknown: use owner, admin, developer or viewer", role)
}
