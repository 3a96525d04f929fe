package ui

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// domainView is the data of one domain's certificate section: the page,
// for the catalogue, the role and the errors, and the domain.
type domainView struct {
	Page   pageView
	Domain store.Domain
}

func newDomainView(page pageView, domain store.Domain) domainView {
	return domainView{Page: page, Domain: domain}
}

// verifyTimeout bounds the DNS lookup of one domain verification, as the
// API's POST .../verify does.
const verifyTimeout = 5 * time.Second

// verifyDomain checks the domain's DNS TXT record with the same store call
// as POST /api/v1/tenants/{slug}/domains/{hostname}/verify.
func (s *server) verifyDomain(c *fiber.Ctx, view pageView) error {
	hostname := c.Params("hostname")
	ctx, cancel := context.WithTimeout(c.UserContext(), verifyTimeout)
	defer cancel()

	domain, err := s.store.VerifyDomain(ctx, view.Tenant, hostname, s.lookupTXT)
	var verifyErr *store.VerificationError
	if errors.As(err, &verifyErr) {
		failure, status := s.verificationFailure(c, view, verifyErr)
		view.Error = failure
		return s.renderDomains(c, view, status, domainsData{})
	}
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderDomains(c, view, status, domainsData{})
	}

	s.audit(c, view.session, "POST", apiTenantPath(view.Tenant, "domains", hostname, "verify"), nil, domain)
	return seeOther(c, tenantURL(view.Tenant, "domains"))
}

// verificationFailure returns the form error of a failed verification in
// the page's language, with the API's status: 422 when the TXT record is
// missing or holds another value, 503 when the lookup itself failed.
func (s *server) verificationFailure(c *fiber.Ctx, view pageView, err *store.VerificationError) (*formError, int) {
	if err.Unavailable {
		s.logger.Error("domain verification lookup failed", "tenant", view.Tenant, "hostname", err.Hostname, "error", err)
		failure := &formError{Title: view.T.Get("domains.lookup_failed"), Detail: view.T.Format("domains.lookup_failed_detail", err.Record)}
		return failure, http.StatusServiceUnavailable
	}

	token := ""
	if domain, readErr := s.store.GetDomain(c.UserContext(), view.Tenant, err.Hostname); readErr == nil {
		token = domain.VerificationToken
	}
	failure := &formError{Title: view.T.Get("domains.not_verified"), Detail: view.T.Format("domains.not_verified_detail", err.Record, token)}
	return failure, http.StatusUnprocessableEntity
}

// uploadCertificate stores a certificate chain and its private key with
// the same store call as PUT .../domains/{hostname}/certificate. After a
// failure the form shows the chain again but never the key.
func (s *server) uploadCertificate(c *fiber.Ctx, view pageView) error {
	hostname := c.Params("hostname")
	input := store.CertificateInput{
		CertificatePEM: c.FormValue("certificate_pem"),
		PrivateKeyPEM:  c.FormValue("private_key_pem"),
	}

	info, err := s.store.SetDomainCertificate(c.UserContext(), view.Tenant, hostname, input)
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderDomains(c, view, status, domainsData{CertificateFor: hostname, CertificatePEM: input.CertificatePEM})
	}

	s.audit(c, view.session, "PUT", apiTenantPath(view.Tenant, "domains", hostname, "certificate"), nil, info)
	return seeOther(c, tenantURL(view.Tenant, "domains"))
}
