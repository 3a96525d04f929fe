// Package testcert issues ECDSA P-256 certificates for tests: self-signed
// server certificates for DNS names, certificate authorities and the
// certificates they sign, with any validity window, parsed and in PEM.
//
// Every module of Portcullis depends on the tenants module, so tests in any
// of them can import this package.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// Certificate is an issued certificate with its private key.
type Certificate struct {
	// Leaf is the parsed certificate.
	Leaf *x509.Certificate
	// Key is the certificate's private key.
	Key *ecdsa.PrivateKey
	// CertificatePEM is the certificate as one PEM "CERTIFICATE" block.
	CertificatePEM string
	// PrivateKeyPEM is the key as one PEM "PRIVATE KEY" block (PKCS #8).
	PrivateKeyPEM string
}

// Options are the optional settings of Issue. The zero value issues a
// self-signed server certificate that is valid from an hour ago until a
// day from now.
type Options struct {
	// NotBefore is the start of the validity window. Zero means an hour
	// before the call.
	NotBefore time.Time
	// NotAfter is the end of the validity window. Zero means a day after
	// the call.
	NotAfter time.Time
	// Parent signs the certificate. Nil means self-signed. A parent must
	// have been issued with IsCA.
	Parent *Certificate
	// IsCA makes a certificate authority that may sign other certificates.
	IsCA bool
	// CommonName is the subject's common name. Empty means the first DNS
	// name, or no common name when there are no DNS names.
	CommonName string
	// IPAddresses are IP addresses the certificate covers besides its DNS
	// names.
	IPAddresses []net.IP
}

// New issues a self-signed server certificate for the DNS names, valid
// from an hour ago until a day from now. It fails the test on error.
func New(t testing.TB, dnsNames ...string) *Certificate {
	t.Helper()
	return Issue(t, dnsNames, Options{})
}

// Issue issues a server certificate for the DNS names with the options.
// It fails the test on error.
func Issue(t testing.TB, dnsNames []string, opts Options) *Certificate {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testcert: generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatalf("testcert: generate serial number: %v", err)
	}

	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName(dnsNames, opts.CommonName)},
		DNSNames:     dnsNames,
		IPAddresses:  opts.IPAddresses,
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if template.NotBefore.IsZero() {
		template.NotBefore = time.Now().Add(-time.Hour)
	}
	if template.NotAfter.IsZero() {
		template.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if opts.IsCA {
		template.IsCA = true
		template.BasicConstraintsValid = true
		template.KeyUsage |= x509.KeyUsageCertSign
	}

	issuer, signer := template, key
	if opts.Parent != nil {
		issuer, signer = opts.Parent.Leaf, opts.Parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatalf("testcert: create certificate for %q: %v", dnsNames, err)
	}
	return encode(t, der, key)
}

// TLSCertificate returns the certificate and key for a tls.Config.
func (c *Certificate) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Leaf.Raw}, PrivateKey: c.Key, Leaf: c.Leaf}
}

// Pool returns a certificate pool that contains only this certificate, for
// a client that trusts it as a root.
func (c *Certificate) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.Leaf)
	return pool
}

func commonName(dnsNames []string, name string) string {
	if name != "" || len(dnsNames) == 0 {
		return name
	}
	return dnsNames[0]
}

// encode parses the certificate and puts it and its key in PEM.
func encode(t testing.TB, der []byte, key *ecdsa.PrivateKey) *Certificate {
	t.Helper()

	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testcert: parse certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testcert: marshal key: %v", err)
	}
	return &Certificate{
		Leaf:           leaf,
		Key:            key,
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		PrivateKeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}
}
