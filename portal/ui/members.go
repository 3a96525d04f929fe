package ui

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
)

// memberRoles are the roles that the member forms offer, most powerful
// first.
var memberRoles = []accounts.Role{accounts.RoleOwner, accounts.RoleAdmin, accounts.RoleDeveloper, accounts.RoleViewer}

// membersData is the data of the member page.
type membersData struct {
	Members []store.Member
	Roles   []accounts.Role
	// Email and Role are the add form's values after a failure.
	Email string
	Role  accounts.Role
}

// CanManage reports whether the session may add, change and remove
// members, which takes the admin role like the API's member endpoints.
func (v pageView) CanManage() bool { return v.Role.Allows(accounts.RoleAdmin) }

func (s *server) membersPage(c *fiber.Ctx, view pageView) error {
	return s.renderMembers(c, view, http.StatusOK, "", accounts.RoleViewer)
}

func (s *server) renderMembers(c *fiber.Ctx, view pageView, status int, email string, role accounts.Role) error {
	members, err := s.store.ListMembers(c.UserContext(), view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	view.Data = membersData{Members: members, Roles: memberRoles, Email: email, Role: role}
	return renderConsole(c, status, "members", view)
}

func (s *server) membersFailed(c *fiber.Ctx, view pageView, email string, role accounts.Role, err error) error {
	failure, status, err := problemOf(c, err)
	if err != nil {
		return err
	}
	view.Error = failure
	return s.renderMembers(c, view, status, email, role)
}

// addMember gives an account a role in the tenant. Only an owner may grant
// the owner role, which the store checks.
func (s *server) addMember(c *fiber.Ctx, view pageView) error {
	email := accounts.NormalizeEmail(c.FormValue("email"))
	role := accounts.Role(c.FormValue("role"))

	member, err := s.store.AddMember(c.UserContext(), view.Tenant, email, role, view.Role)
	if err != nil {
		return s.membersFailed(c, view, email, role, err)
	}

	s.audit(c, view.session, fiber.MethodPost, apiTenantPath(view.Tenant, "members", member.User), nil, member)
	return seeOther(c, tenantURL(view.Tenant, "members"))
}

func (s *server) changeMember(c *fiber.Ctx, view pageView) error {
	user := c.Params("user")
	role := accounts.Role(strings.TrimSpace(c.FormValue("role")))
	ctx := c.UserContext()

	before, err := s.store.GetMember(ctx, view.Tenant, user)
	var after store.Member
	if err == nil {
		after, err = s.store.UpdateMember(ctx, view.Tenant, user, role, view.Role)
	}
	if err != nil {
		return s.membersFailed(c, view, "", accounts.RoleViewer, err)
	}

	s.audit(c, view.session, fiber.MethodPatch, apiTenantPath(view.Tenant, "members", user), before, after)
	return seeOther(c, tenantURL(view.Tenant, "members"))
}

func (s *server) removeMember(c *fiber.Ctx, view pageView) error {
	user := c.Params("user")
	ctx := c.UserContext()

	before, err := s.store.GetMember(ctx, view.Tenant, user)
	if err == nil {
		err = s.store.RemoveMember(ctx, view.Tenant, user, view.Role)
	}
	if err != nil {
		return s.membersFailed(c, view, "", accounts.RoleViewer, err)
	}

	s.audit(c, view.session, fiber.MethodDelete, apiTenantPath(view.Tenant, "members", user), before, nil)
	return seeOther(c, tenantURL(view.Tenant, "members"))
}
