// Package tlsconf holds the edge's TLS settings and the per-tenant state
// that TLS depends on: the index of custom domains, each tenant's
// certificates chosen by SNI, and each route's HTTPS redirect and HSTS
// policy.
package tlsconf

import (
	"crypto/tls"
)

// CipherSuites are the TLS 1.2 cipher suites the edge accepts: ECDHE key
// exchange with an AEAD cipher (AES-GCM or ChaCha20-Poly1305), the set
// that RFC 9325 section 4.2 recommends. TLS 1.3 suites are not
// configurable in crypto/tls and are all AEAD.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// CertificateFunc returns the certificate for a handshake, or nil for the
// default certificate, as tls.Config.GetCertificate.
type CertificateFunc func(hello *tls.ClientHelloInfo) (*tls.Certificate, error)

// ServerConfig returns a copy of base that accepts TLS 1.2 and 1.3 only,
// with CipherSuites for TLS 1.2, and calls getCertificate first for each
// handshake. base's Certificates stay the default for handshakes that
// getCertificate returns nil for. A nil getCertificate keeps base's.
func ServerConfig(base *tls.Config, getCertificate CertificateFunc) *tls.Config {
	config := base.Clone()
	config.MinVersion = tls.VersionTLS12
	config.MaxVersion = tls.VersionTLS13
	config.CipherSuites = CipherSuites
	if getCertificate != nil {
		config.GetCertificate = getCertificate
	}
	return config
}
