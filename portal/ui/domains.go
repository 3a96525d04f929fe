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
	// CertificateFor is the hostname whose certificate upload failed, and
	// CertificatePEM the chain that the upload sent. The private key is
	// never sent back.
	CertificateFor string
	CertificatePEM string
}

func (s *server) domainsPage(c *fiber.Ctx, view pageView) error {
	return s.renderDomains(c, view, http.StatusOK, domainsData{})
}

// renderDomains shows the domain page with the form values of data.
func (s *server) renderDomains(c *fiber.Ctx, view pageView, status int, data domainsData) error {
	domains, err := s.store.ListDomains(c.UserContext(), view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	data.Domains = domains
	view.Data = data
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
		return s.renderDomains(c, view, status, domainsData{Hostname: hostname})
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
		return s.renderDomains(c, view, status, domainsData{})
	}

	s.audit(c, view.session, "DELETE", apiTenantPath(view.Tenant, "domains", hostname), before, nil)
	return seeOther(c, tenantURL(view.Tenant, "domains"))
}
