package ui

import (
	"context"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// tenantsData is the data of the tenant list.
type tenantsData struct {
	Tenants []tenantRow
	// Slug and Name are the create form's values after a failure.
	Slug string
	Name string
}

type tenantRow struct {
	Slug string
	Name string
	Role accounts.Role
}

func (s *server) tenantsPage(c *fiber.Ctx) error {
	current, found, err := s.requireSession(c)
	if err != nil || !found {
		return err
	}
	return s.renderTenants(c, current, http.StatusOK, tenantsData{}, nil)
}

func (s *server) renderTenants(c *fiber.Ctx, current session, status int, data tenantsData, failure *formError) error {
	tenants, err := s.listTenants(c.UserContext(), current)
	if err != nil {
		return err
	}
	data.Tenants = tenants

	view := newPage(c, current, "tenants.title")
	view.Data = data
	view.Error = failure
	return renderConsole(c, status, "tenants", view)
}

// listTenants returns the tenants the session may see with its role in
// each: every tenant for the operator, a user's own tenants otherwise.
func (s *server) listTenants(ctx context.Context, current session) ([]tenantRow, error) {
	if current.operator {
		tenants, err := s.store.ListTenants(ctx)
		if err != nil {
			return nil, err
		}
		rows := make([]tenantRow, 0, len(tenants))
		for _, tenant := range tenants {
			rows = append(rows, tenantRow{Slug: tenant.Slug, Name: tenant.Name, Role: accounts.RoleOwner})
		}
		return rows, nil
	}

	tenants, err := s.store.ListTenantsOf(ctx, current.user.ID)
	if err != nil {
		return nil, err
	}
	rows := make([]tenantRow, 0, len(tenants))
	for _, tenant := range tenants {
		role, err := s.store.MemberRole(ctx, tenant.Slug, current.user.ID)
		if err != nil {
			return nil, err
		}
		rows = append(rows, tenantRow{Slug: tenant.Slug, Name: tenant.Name, Role: role})
	}
	return rows, nil
}

// createTenant creates a tenant like POST /api/v1/tenants: a user becomes
// its owner, and the operator creates it without members.
func (s *server) createTenant(c *fiber.Ctx) error {
	current, found, err := s.requireSession(c)
	if err != nil || !found {
		return err
	}
	if !checkCSRF(current.secret, c.FormValue(CSRFField)) {
		return rejectCSRF(c)
	}

	input := config.Tenant{Slug: strings.TrimSpace(c.FormValue("slug")), Name: strings.TrimSpace(c.FormValue("name"))}
	var tenant store.Tenant
	if current.operator {
		tenant, err = s.store.CreateTenant(c.UserContext(), input)
	} else {
		tenant, err = s.store.CreateTenantOwned(c.UserContext(), input, current.user.ID)
	}
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		return s.renderTenants(c, current, status, tenantsData{Slug: input.Slug, Name: input.Name}, failure)
	}

	s.audit(c, current, "POST", "/api/v1/tenants/"+tenant.Slug, nil, tenant)
	return seeOther(c, tenantURL(tenant.Slug))
}

// dashboardData is the data of a tenant's dashboard.
type dashboardData struct {
	Name        string
	Upstreams   int
	Routes      int
	Bindings    int
	Consumers   int
	Propagation tenantBlock
}

func (s *server) dashboardPage(c *fiber.Ctx, view pageView) error {
	ctx := c.UserContext()
	slug := view.Tenant

	data, err := s.countResources(ctx, slug)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	data.Propagation, err = s.tenantBlock(ctx, slug, webText[view.T.Lang()])
	if err != nil {
		return err
	}

	view.Data = data
	return renderConsole(c, http.StatusOK, "dashboard", view)
}

func (s *server) countResources(ctx context.Context, slug string) (dashboardData, error) {
	tenant, err := s.store.GetTenant(ctx, slug)
	if err != nil {
		return dashboardData{}, err
	}
	upstreams, err := s.store.ListUpstreams(ctx, slug)
	if err != nil {
		return dashboardData{}, err
	}
	routes, err := s.store.ListRoutes(ctx, slug)
	if err != nil {
		return dashboardData{}, err
	}
	bindings, err := s.store.ListBindings(ctx, slug)
	if err != nil {
		return dashboardData{}, err
	}
	consumers, _, err := s.store.ListConsumers(ctx, slug, store.Page{})
	if err != nil {
		return dashboardData{}, err
	}
	return dashboardData{Name: tenant.Name, Upstreams: len(upstreams), Routes: len(routes), Bindings: len(bindings), Consumers: len(consumers)}, nil
}
