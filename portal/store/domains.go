package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// ChallengePrefix is the label before a custom domain's hostname under
// which its owner publishes the verification token as a DNS TXT record.
const ChallengePrefix = "_portcullis-challenge."

// MaxDomainsPerTenant bounds the custom domains of one tenant, so that a
// bundle and the edge's domain index stay small.
const MaxDomainsPerTenant = 100

// domainRow is one custom domain. The hostname is unique across tenants.
type domainRow struct {
	ID                uint `gorm:"primaryKey"`
	TenantID          uint
	Hostname          string
	VerificationToken string
	VerifiedAt        *time.Time
	CertificatePEM    string `gorm:"column:certificate_pem"`
	// PrivateKeySealed is the AES-256-GCM ciphertext of the certificate's
	// private key in PEM, bound to the hostname.
	PrivateKeySealed string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (domainRow) TableName() string { return "domains" }

// Domain is a custom domain of a tenant as the API shows it. The private
// key of its certificate is never part of it.
type Domain struct {
	Hostname string `json:"hostname"`
	Verified bool   `json:"verified"`
	// VerifiedAt is when the DNS check passed, nil before.
	VerifiedAt *time.Time `json:"verified_at"`
	// VerificationRecord is the DNS name of the TXT record that must
	// contain VerificationToken.
	VerificationRecord string `json:"verification_record"`
	VerificationToken  string `json:"verification_token"`
	// Certificate describes the uploaded certificate, nil before one is.
	Certificate *CertificateInfo `json:"certificate"`
	CreatedAt   time.Time        `json:"created_at"`
}

// TXTLookup returns the TXT records of a DNS name, such as
// (*net.Resolver).LookupTXT.
type TXTLookup func(ctx context.Context, name string) ([]string, error)

// VerificationError reports a domain whose TXT record is missing or holds
// another value. Unavailable is true when the DNS lookup itself failed,
// such as a resolver that did not respond.
type VerificationError struct {
	Hostname    string
	Record      string
	Message     string
	Unavailable bool
	// Issue is the field error on verification_record that Message is
	// the text of, kept for translations.
	Issue *config.FieldError
}

// verificationError returns the VerificationError of hostname whose
// message is format filled with args.
func verificationError(hostname, record string, unavailable bool, format string, args ...any) *VerificationError {
	issue := config.Invalid("verification_record", format, args...)
	return &VerificationError{Hostname: hostname, Record: record, Message: issue.Message, Unavailable: unavailable, Issue: issue}
}

func (e *VerificationError) Error() string {
	return fmt.Sprintf("domain %q not verified: %s", e.Hostname, e.Message)
}

// domainFromRow builds the API view. A certificate that no longer parses
// is an error, because the store checked it on upload.
func domainFromRow(row *domainRow) (Domain, error) {
	domain := Domain{
		Hostname:           row.Hostname,
		Verified:           row.VerifiedAt != nil,
		VerificationRecord: ChallengePrefix + row.Hostname,
		VerificationToken:  row.VerificationToken,
		CreatedAt:          row.CreatedAt.UTC(),
	}
	if row.VerifiedAt != nil {
		verified := row.VerifiedAt.UTC()
		domain.VerifiedAt = &verified
	}
	if row.CertificatePEM != "" {
		info, err := describeCertificate(row.CertificatePEM)
		if err != nil {
			return Domain{}, fmt.Errorf("read certificate of domain %q: %w", row.Hostname, err)
		}
		domain.Certificate = &info
	}
	return domain, nil
}

// findDomain returns the tenant's domain with the hostname. A hostname that
// is not valid cannot exist, so it is not found either.
func findDomain(tx *gorm.DB, tenant *tenantRow, hostname string) (*domainRow, error) {
	name, err := config.NormalizeHostname("hostname", hostname)
	if err != nil {
		return nil, &NotFoundError{Resource: "domain", Name: hostname}
	}

	var row domainRow
	result := scoped(tx, tenant).Where("hostname = ?", name).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read domain %q of tenant %q: %w", name, tenant.Slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "domain", Name: name}
	}
	return &row, nil
}

func newVerificationToken() (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("generate verification token: %w", err)
	}
	return "portcullis-verify-" + hex.EncodeToString(random[:]), nil
}

// CreateDomain claims a hostname for the tenant. The domain starts
// unverified, with a new verification token. A hostname that any tenant
// already claimed is a ConflictError.
func (s *Store) CreateDomain(ctx context.Context, slug, hostname string) (Domain, error) {
	name, err := config.NormalizeHostname("hostname", hostname)
	if err != nil {
		return Domain{}, err
	}
	token, err := newVerificationToken()
	if err != nil {
		return Domain{}, err
	}

	row := domainRow{Hostname: name, VerificationToken: token}
	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		if err := checkDomainFree(tx, tenant, name); err != nil {
			return change{}, err
		}

		row.TenantID = tenant.ID
		if err := tx.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return change{}, claimedError(name)
			}
			return change{}, fmt.Errorf("create domain %q of tenant %q: %w", name, slug, err)
		}
		return change{kind: KindCreate, resource: "domain/" + name}, nil
	})
	if err != nil {
		return Domain{}, err
	}
	return domainFromRow(&row)
}

// checkDomainFree rejects a hostname that a tenant already claimed, and a
// tenant at MaxDomainsPerTenant. The unique index on the hostname catches
// a concurrent claim that this check misses.
func checkDomainFree(tx *gorm.DB, tenant *tenantRow, hostname string) error {
	var owner domainRow
	result := tx.Select("tenant_id").Where("hostname = ?", hostname).Limit(1).Find(&owner)
	if result.Error != nil {
		return fmt.Errorf("check domain %q: %w", hostname, result.Error)
	}
	if result.RowsAffected > 0 && owner.TenantID == tenant.ID {
		return conflict("domain %q already exists in tenant %q", hostname, tenant.Slug)
	}
	if result.RowsAffected > 0 {
		return claimedError(hostname)
	}

	var count int64
	if err := scoped(tx.Model(&domainRow{}), tenant).Count(&count).Error; err != nil {
		return fmt.Errorf("count domains of tenant %q: %w", tenant.Slug, err)
	}
	if count >= MaxDomainsPerTenant {
		return conflict("tenant %q has %d domains, the limit: delete one before adding %q", tenant.Slug, count, hostname)
	}
	return nil
}

// claimedError names the hostname but not the tenant that holds it.
func claimedError(hostname string) error {
	return conflict("hostname %q is already claimed by another tenant: a hostname belongs to one tenant, so ask its owner to delete it first", hostname)
}

// ListDomains returns the tenant's domains ordered by hostname.
func (s *Store) ListDomains(ctx context.Context, slug string) ([]Domain, error) {
	domains := []Domain{}

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}

		var rows []domainRow
		if err := scoped(tx, tenant).Order("hostname").Find(&rows).Error; err != nil {
			return fmt.Errorf("list domains of tenant %q: %w", slug, err)
		}
		for i := range rows {
			domain, err := domainFromRow(&rows[i])
			if err != nil {
				return err
			}
			domains = append(domains, domain)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return domains, nil
}

// GetDomain returns one domain of the tenant.
func (s *Store) GetDomain(ctx context.Context, slug, hostname string) (Domain, error) {
	var domain Domain

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		row, err := findDomain(tx, tenant, hostname)
		if err != nil {
			return err
		}
		domain, err = domainFromRow(row)
		return err
	})
	return domain, err
}

// DeleteDomain deletes a domain with its certificate. Edges stop serving
// the hostname for the tenant once they apply the change.
func (s *Store) DeleteDomain(ctx context.Context, slug, hostname string) error {
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findDomain(tx, tenant, hostname)
		if err != nil {
			return change{}, err
		}
		if err := tx.Delete(row).Error; err != nil {
			return change{}, fmt.Errorf("delete domain %q of tenant %q: %w", row.Hostname, slug, err)
		}
		return change{kind: KindDelete, resource: "domain/" + row.Hostname}, nil
	})
	return err
}

// VerifyDomain looks up the TXT record ChallengePrefix+hostname with lookup
// and marks the domain verified when one of its values equals the
// domain's token. A domain that is verified already stays verified without
// a lookup. A failed check returns a *VerificationError and changes
// nothing.
func (s *Store) VerifyDomain(ctx context.Context, slug, hostname string, lookup TXTLookup) (Domain, error) {
	current, err := s.GetDomain(ctx, slug, hostname)
	if err != nil || current.Verified {
		return current, err
	}

	if err := checkChallenge(ctx, current, lookup); err != nil {
		return Domain{}, err
	}

	var verified Domain
	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findDomain(tx, tenant, current.Hostname)
		if err != nil {
			return change{}, err
		}
		if row.VerificationToken != current.VerificationToken {
			return change{}, conflict("domain %q changed during verification: verify it again", row.Hostname)
		}

		now := tx.NowFunc()
		if err := tx.Model(row).Updates(map[string]any{"verified_at": now, "updated_at": now}).Error; err != nil {
			return change{}, fmt.Errorf("mark domain %q of tenant %q verified: %w", row.Hostname, slug, err)
		}
		row.VerifiedAt = &now
		verified, err = domainFromRow(row)
		return change{kind: KindUpdate, resource: "domain/" + row.Hostname}, err
	})
	if err != nil {
		return Domain{}, err
	}
	return verified, nil
}

// checkChallenge looks the TXT record up. The name is sent with a trailing
// dot, so the resolver never appends a search domain to it.
func checkChallenge(ctx context.Context, domain Domain, lookup TXTLookup) error {
	record := domain.VerificationRecord
	values, err := lookup(ctx, record+".")
	if err != nil && !isNoSuchHost(err) {
		return verificationError(domain.Hostname, record, true, "the DNS lookup of TXT %s failed: %v; try again later", record, err)
	}

	for _, value := range values {
		if strings.TrimSpace(value) == domain.VerificationToken {
			return nil
		}
	}
	return verificationError(domain.Hostname, record, false, "no TXT record %s contains the token %q: publish it at your DNS provider, wait for it to propagate, then verify again", record, domain.VerificationToken)
}

// isNoSuchHost reports a lookup that found no record, as opposed to one
// that failed.
func isNoSuchHost(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// DomainIndex returns every verified hostname with the slug of its tenant,
// for edges to find the tenant of a request before they load its bundle.
func (s *Store) DomainIndex(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Hostname string
		Slug     string
	}
	err := s.reader.WithContext(ctx).
		Table("domains").
		Select("domains.hostname, tenants.slug").
		Joins("JOIN tenants ON tenants.id = domains.tenant_id").
		Where("domains.verified_at IS NOT NULL").
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list verified domains: %w", err)
	}

	index := make(map[string]string, len(rows))
	for _, row := range rows {
		index[row.Hostname] = row.Slug
	}
	return index, nil
}

// listBundleDomains returns the tenant's verified domains for a bundle,
// ordered by hostname, with their private keys decrypted.
func (s *Store) listBundleDomains(tx *gorm.DB, tenant *tenantRow) ([]bundle.Domain, error) {
	var rows []domainRow
	if err := scoped(tx, tenant).Where("verified_at IS NOT NULL").Order("hostname").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list verified domains of tenant %q: %w", tenant.Slug, err)
	}

	domains := make([]bundle.Domain, 0, len(rows))
	for _, row := range rows {
		domain := bundle.Domain{Hostname: row.Hostname, CertificatePEM: row.CertificatePEM}
		if row.PrivateKeySealed != "" {
			key, err := s.openPrivateKey(row.Hostname, row.PrivateKeySealed)
			if err != nil {
				return nil, err
			}
			domain.PrivateKeyPEM = key
		}
		domains = append(domains, domain)
	}
	return domains, nil
}
