package ui

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// domainsData is the data of the custom domain page.
type domainsData struct {
	Domains []store.Domain
	// Hostname is the create form's value after a failure.
	Hostname string
}

func (s *server) domainsPage(c *fiber.Ctx, view pageView) error {
	return s.renderDomains(c, view, http.StatusOK, "")
}

func (s *server) renderDomains(c *fiber.Ctx, view pageView, status int, hostname string) error {
	domains, err := s.store.ListDomains(c.UserContext(), view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	view.Data = domainsData{Domains: domains, Hostname: hostname}
	return renderConsole(c, status, "domains", view)
}

// createDomain claims a hostname for the tenant. The page then shows the
// TXT record that proves the claim.
func (s *server) createDomain(c *fiber.Ctx, view pageView) error {
	hostname := strings.TrimSpace(c.FormValue("hostname"))

	domain, err := s.store.CreateDomain(c.UserContext(), view.Tenant, hostname)
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderDomains(c, view, status, hostname)
	}

	s.audit(c, view.session, "POST", apiTenantPath(view.Tenant, "domains", domain.Hostname), nil, domain)
	return seeOther(c, tenantURL(view.Tenant, "domains"))
}

func (s *server) deleteDomain(c *fiber.Ctx, view pageView) error {
	hostname := c.Params("hostname")
	ctx := c.UserContext()

	before, err := s.store.GetDomain(ctx, view.Tenant, hostname)
	if err == nil {
		err = s.store.DeleteDomain(ctx, view.Tenant, hostname)
	}
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderDomains(c, view, status, "")
	}

	s.audit(c, view.session, "DELETE", apiTenantPath(view.Tenant, "domains", hostname), before, nil)
	return seeOther(c, tenantURL(view.Tenant, "domains"))
}
