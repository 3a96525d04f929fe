package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// dnsTimeout bounds one TXT lookup of a domain verification.
const dnsTimeout = 5 * time.Second

func (h *handlers) registerDomains(v1 fiber.Router) {
	v1.Get("/tenants/:slug/domains", handle(h.listDomains))
	v1.Post("/tenants/:slug/domains", handle(h.createDomain))
	v1.Get("/tenants/:slug/domains/:hostname", handle(h.getDomain))
	v1.Delete("/tenants/:slug/domains/:hostname", handle(h.deleteDomain))
	v1.Post("/tenants/:slug/domains/:hostname/verify", handle(h.verifyDomain))
	v1.Get("/tenants/:slug/domains/:hostname/certificate", handle(h.getDomainCertificate))
	v1.Put("/tenants/:slug/domains/:hostname/certificate", handle(h.putDomainCertificate))
}

// registerEdgeDomains adds the domain index that edges read with their
// enrollment token, next to the other edge sync endpoints.
func (h *handlers) registerEdgeDomains(app *fiber.App) {
	app.Get("/api/v1/edge/domains", h.requireEdgeToken, handle(h.edgeDomains))
}

// NewTXTLookup returns the TXT lookup of domain verifications: through the
// DNS server at address ("host:port", port 53 when left out), or through
// the system resolver when address is empty.
func NewTXTLookup(address string) (store.TXTLookup, error) {
	if address == "" {
		return net.DefaultResolver.LookupTXT, nil
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		address = net.JoinHostPort(address, "53")
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		return nil, fmt.Errorf("DNS resolver %q is not host:port, such as 127.0.0.1:53: %w", address, err)
	}

	dialer := &net.Dialer{Timeout: dnsTimeout}
	resolver := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, address)
		},
	}
	return resolver.LookupTXT, nil
}

func domainPath(slug, hostname string) string {
	return tenantPath(slug) + "/domains/" + url.PathEscape(hostname)
}

func (h *handlers) listDomains(c *fiber.Ctx) (int, any, error) {
	domains, err := h.store.ListDomains(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	return ok(domains)
}

func (h *handlers) createDomain(c *fiber.Ctx) (int, any, error) {
	var input hostnameRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	slug := c.Params("slug")
	domain, err := h.store.CreateDomain(requestContext(c), slug, input.Hostname)
	if err != nil {
		return failed(err)
	}
	return created(c, domainPath(slug, domain.Hostname), domain)
}

func (h *handlers) getDomain(c *fiber.Ctx) (int, any, error) {
	domain, err := h.store.GetDomain(requestContext(c), c.Params("slug"), c.Params("hostname"))
	if err != nil {
		return failed(err)
	}
	return ok(domain)
}

func (h *handlers) deleteDomain(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteDomain(requestContext(c), c.Params("slug"), c.Params("hostname")); err != nil {
		return failed(err)
	}
	return noContent()
}

// verifyDomain checks the domain's DNS TXT record. The request body, if
// any, is ignored.
func (h *handlers) verifyDomain(c *fiber.Ctx) (int, any, error) {
	ctx, cancel := context.WithTimeout(requestContext(c), dnsTimeout)
	defer cancel()

	domain, err := h.store.VerifyDomain(ctx, c.Params("slug"), c.Params("hostname"), h.lookupTXT)
	var verifyErr *store.VerificationError
	if errors.As(err, &verifyErr) {
		return failed(verificationProblem(verifyErr))
	}
	if err != nil {
		return failed(err)
	}
	return ok(domain)
}

func verificationProblem(err *store.VerificationError) *Problem {
	issue := FieldIssue{Field: "verification_record", Message: err.Message, source: err.Issue}
	if err.Unavailable {
		return newProblem(http.StatusServiceUnavailable, "dns-unavailable", "DNS lookup failed", err.Error(), issue)
	}
	return newProblem(http.StatusUnprocessableEntity, "domain-not-verified", "Domain not verified", err.Error(), issue)
}

func (h *handlers) getDomainCertificate(c *fiber.Ctx) (int, any, error) {
	domain, err := h.store.GetDomain(requestContext(c), c.Params("slug"), c.Params("hostname"))
	if err != nil {
		return failed(err)
	}
	if domain.Certificate == nil {
		return failed(&store.NotFoundError{Resource: "certificate of domain", Name: domain.Hostname})
	}
	return ok(domain.Certificate)
}

// putDomainCertificate stores a certificate and returns its info. The
// private key never appears in a response.
func (h *handlers) putDomainCertificate(c *fiber.Ctx) (int, any, error) {
	var input store.CertificateInput
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	info, err := h.store.SetDomainCertificate(requestContext(c), c.Params("slug"), c.Params("hostname"), input)
	if err != nil {
		return failed(err)
	}
	return ok(info)
}

// edgeDomains returns every verified custom hostname with its tenant's
// slug.
func (h *handlers) edgeDomains(c *fiber.Ctx) (int, any, error) {
	index, err := h.store.DomainIndex(requestContext(c))
	if err != nil {
		return failed(err)
	}
	return ok(domainIndexResponse{Domains: index})
}

// hostnameRequest is the body of POST .../domains.
type hostnameRequest struct {
	Hostname string `json:"hostname"`
}

// domainIndexResponse is the body of GET /api/v1/edge/domains.
type domainIndexResponse struct {
	Domains map[string]string `json:"domains"`
}

// domainOperations lists the domain endpoints for the OpenAPI document.
func domainOperations() []operation {
	return []operation{
		{Method: "GET", Path: "/api/v1/tenants/:slug/domains", Summary: "List custom domains", Tag: "domains", Response: []store.Domain{}},
		{Method: "POST", Path: "/api/v1/tenants/:slug/domains", Summary: "Claim a custom domain; it starts unverified", Tag: "domains", Request: hostnameRequest{}, Response: store.Domain{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug/domains/:hostname", Summary: "Get a custom domain", Tag: "domains", Response: store.Domain{}},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug/domains/:hostname", Summary: "Delete a custom domain and its certificate", Tag: "domains", Status: http.StatusNoContent},
		{Method: "POST", Path: "/api/v1/tenants/:slug/domains/:hostname/verify", Summary: "Verify a domain by its DNS TXT record", Tag: "domains", Response: store.Domain{}},
		{Method: "GET", Path: "/api/v1/tenants/:slug/domains/:hostname/certificate", Summary: "Describe a domain's certificate", Tag: "domains", Response: store.CertificateInfo{}},
		{Method: "PUT", Path: "/api/v1/tenants/:slug/domains/:hostname/certificate", Summary: "Upload a domain's certificate and private key", Tag: "domains", Request: store.CertificateInput{}, Response: store.CertificateInfo{}},
		{Method: "GET", Path: "/api/v1/edge/domains", Summary: "Every verified custom hostname with its tenant", Tag: "edge sync", Response: domainIndexResponse{}, Edge: true},
	}
}
