package store

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Limits of an uploaded certificate.
const (
	// MaxCertificatePEM bounds certificate_pem, the leaf and its chain.
	MaxCertificatePEM = 64 << 10
	// MaxPrivateKeyPEM bounds private_key_pem.
	MaxPrivateKeyPEM = 16 << 10
	// MaxChainLength bounds the certificates in certificate_pem.
	MaxChainLength = 10
)

// CertificateInput is the body of a certificate upload: the leaf
// certificate followed by its intermediates, and the leaf's private key,
// both in PEM.
type CertificateInput struct {
	CertificatePEM string `json:"certificate_pem"`
	PrivateKeyPEM  string `json:"private_key_pem"`
}

// CertificateInfo describes a domain's certificate without its key.
type CertificateInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	SANs      []string  `json:"sans"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// SHA256Fingerprint is the hex SHA-256 of the leaf's DER encoding.
	SHA256Fingerprint string `json:"sha256_fingerprint"`
	// ChainLength counts the certificates in certificate_pem, leaf first.
	ChainLength int `json:"chain_length"`
}

// parseChain decodes every CERTIFICATE block of certPEM, leaf first.
func parseChain(certPEM string) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	rest := []byte(certPEM)

	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fieldError("certificate_pem", "certificate_pem contains a %q PEM block: send only CERTIFICATE blocks, and the key in private_key_pem", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fieldError("certificate_pem", "certificate %d of certificate_pem does not parse: %v", len(chain)+1, err)
		}
		chain = append(chain, cert)
	}

	if len(chain) == 0 {
		return nil, fieldError("certificate_pem", "certificate_pem contains no PEM certificate: send the leaf certificate, then its intermediates, each as -----BEGIN CERTIFICATE-----")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, fieldError("certificate_pem", "certificate_pem has text after its last PEM block that is not PEM: remove it")
	}
	if len(chain) > MaxChainLength {
		return nil, fieldError("certificate_pem", "certificate_pem contains %d certificates, above the limit of %d", len(chain), MaxChainLength)
	}
	return chain, nil
}

// checkCertificate checks an upload for the hostname at time now: sizes,
// the chain parses and each certificate is signed by the next, the key
// matches the leaf, the leaf covers the hostname and is valid now.
func checkCertificate(hostname string, input CertificateInput, now time.Time) error {
	if len(input.CertificatePEM) > MaxCertificatePEM {
		return fieldError("certificate_pem", "certificate_pem is %d bytes, above the limit of %d", len(input.CertificatePEM), MaxCertificatePEM)
	}
	if len(input.PrivateKeyPEM) > MaxPrivateKeyPEM {
		return fieldError("private_key_pem", "private_key_pem is %d bytes, above the limit of %d", len(input.PrivateKeyPEM), MaxPrivateKeyPEM)
	}
	chain, err := parseChain(input.CertificatePEM)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return fieldError("certificate_pem", "certificate %d of certificate_pem is not signed by certificate %d: list the leaf first, then each issuer in order (%v)", i+1, i+2, err)
		}
	}

	if strings.TrimSpace(input.PrivateKeyPEM) == "" {
		return fieldError("private_key_pem", "private_key_pem is missing: send the leaf certificate's private key in PEM")
	}
	leaf := chain[0]
	if err := checkPrivateKey(input.CertificatePEM, input.PrivateKeyPEM, leaf); err != nil {
		return err
	}

	if err := leaf.VerifyHostname(hostname); err != nil {
		return fieldError("certificate_pem", "the leaf certificate does not cover %q; it covers %s: upload a certificate with %q in its subject alternative names", hostname, describeNames(leaf), hostname)
	}
	if now.After(leaf.NotAfter) {
		return fieldError("certificate_pem", "the leaf certificate expired at %s: renew it and upload the new one", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return fieldError("certificate_pem", "the leaf certificate is valid only from %s: upload it then, or fix its not_before", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

func describeNames(leaf *x509.Certificate) string {
	if len(leaf.DNSNames) == 0 {
		return "no DNS names"
	}
	return strings.Join(leaf.DNSNames, ", ")
}

// describeCertificate returns the info of a stored certificate chain.
func describeCertificate(certPEM string) (CertificateInfo, error) {
	chain, err := parseChain(certPEM)
	if err != nil {
		return CertificateInfo{}, err
	}

	leaf := chain[0]
	sum := sha256.Sum256(leaf.Raw)
	sans := append([]string{}, leaf.DNSNames...)
	return CertificateInfo{
		Subject:           leaf.Subject.String(),
		Issuer:            leaf.Issuer.String(),
		SANs:              sans,
		NotBefore:         leaf.NotBefore.UTC(),
		NotAfter:          leaf.NotAfter.UTC(),
		SHA256Fingerprint: hex.EncodeToString(sum[:]),
		ChainLength:       len(chain),
	}, nil
}

// privateKeyAssociated binds a sealed private key to its hostname.
func privateKeyAssociated(hostname string) string {
	return "domain-private-key/" + hostname
}

func (s *Store) sealPrivateKey(hostname, keyPEM string) (string, error) {
	if s.secrets == nil {
		return "", ErrNoSecretKey
	}
	sealed, err := s.secrets.Seal(keyPEM, privateKeyAssociated(hostname))
	if err != nil {
		return "", fmt.Errorf("encrypt private key of domain %q: %w", hostname, err)
	}
	return sealed, nil
}

func (s *Store) openPrivateKey(hostname, sealed string) (string, error) {
	if s.secrets == nil {
		return "", fmt.Errorf("decrypt private key of domain %q: %w", hostname, ErrNoSecretKey)
	}
	key, err := s.secrets.Open(sealed, privateKeyAssociated(hostname))
	if err != nil {
		return "", fmt.Errorf("decrypt private key of domain %q: %w", hostname, err)
	}
	return key, nil
}

// SetDomainCertificate checks the certificate and key for the domain and
// stores them, the key encrypted. It replaces any earlier certificate and
// returns the certificate's info, never the key.
func (s *Store) SetDomainCertificate(ctx context.Context, slug, hostname string, input CertificateInput) (CertificateInfo, error) {
	var info CertificateInfo

	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findDomain(tx, tenant, hostname)
		if err != nil {
			return change{}, err
		}
		if err := checkCertificate(row.Hostname, input, tx.NowFunc()); err != nil {
			return change{}, err
		}
		if info, err = describeCertificate(input.CertificatePEM); err != nil {
			return change{}, err
		}
		sealed, err := s.sealPrivateKey(row.Hostname, input.PrivateKeyPEM)
		if err != nil {
			return change{}, err
		}

		columns := map[string]any{"certificate_pem": input.CertificatePEM, "private_key_sealed": sealed, "updated_at": tx.NowFunc()}
		if err := tx.Model(row).Updates(columns).Error; err != nil {
			return change{}, fmt.Errorf("store certificate of domain %q in tenant %q: %w", row.Hostname, slug, err)
		}
		return change{kind: KindUpdate, resource: "domain/" + row.Hostname + "/certificate"}, nil
	})
	if err != nil {
		return CertificateInfo{}, err
	}
	return info, nil
}
