package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"regexp"
)

// UpstreamTLS configures the edge's TLS client for the https:// targets of
// an upstream.
type UpstreamTLS struct {
	// CAPEM holds the PEM certificates that verify the targets. Empty
	// means the system roots.
	CAPEM string `json:"ca_pem,omitempty"`
	// ClientCertPEM and ClientKeyPEM are the PEM certificate chain and
	// private key that the edge presents to targets that require one.
	// Both or neither are set.
	ClientCertPEM string `json:"client_cert_pem,omitempty"`
	// ClientKeyPEM is a secret: the portal stores it encrypted and never
	// returns it, and sets ClientKeySet in its place.
	ClientKeyPEM string `json:"client_key_pem,omitempty"`
	// ClientKeySet reports in portal responses that a client key is
	// stored. On update, true with an empty ClientKeyPEM keeps the stored
	// key.
	ClientKeySet bool `json:"client_key_set,omitempty"`
	// ServerName is the name verified in the targets' certificates and
	// sent in SNI. Empty means the host of each target URL.
	ServerName string `json:"server_name,omitempty"`
}

// MaxPEMLength bounds each PEM field of UpstreamTLS, in bytes.
const MaxPEMLength = 64 << 10

// serverNamePattern matches a DNS name or an IPv4 address, without a port.
var serverNamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})?$`)

// ClientConfig returns the crypto/tls client config for the fields. It
// returns an error when a PEM field does not parse.
func (t *UpstreamTLS) ClientConfig() (*tls.Config, error) {
	config := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}

	if t.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(t.CAPEM)) {
			return nil, invalid("tls.ca_pem", "ca_pem contains no PEM certificate: paste one or more \"-----BEGIN CERTIFICATE-----\" blocks")
		}
		config.RootCAs = pool
	}

	if t.ClientCertPEM != "" || t.ClientKeyPEM != "" {
		pair, err := tls.X509KeyPair([]byte(t.ClientCertPEM), []byte(t.ClientKeyPEM))
		if err != nil {
			return nil, invalid("tls.client_cert_pem", "client_cert_pem and client_key_pem do not form a key pair (%v): paste the PEM certificate and its matching PEM private key", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}

func (t *UpstreamTLS) validate(field string) error {
	for name, value := range map[string]string{"ca_pem": t.CAPEM, "client_cert_pem": t.ClientCertPEM, "client_key_pem": t.ClientKeyPEM} {
		if len(value) > MaxPEMLength {
			return invalid(field+"."+name, "%s is %d bytes, above the limit of %d", name, len(value), MaxPEMLength)
		}
	}
	if len(t.ServerName) > 253 || (t.ServerName != "" && !serverNamePattern.MatchString(t.ServerName)) {
		return invalid(field+".server_name", "%q is not a host name: use a DNS name such as \"api.internal\", without a scheme or port", t.ServerName)
	}

	hasKey := t.ClientKeyPEM != "" || t.ClientKeySet
	switch {
	case t.ClientCertPEM != "" && !hasKey:
		return invalid(field+".client_key_pem", "client_key_pem is missing: a client certificate needs its PEM private key")
	case t.ClientCertPEM == "" && hasKey:
		return invalid(field+".client_cert_pem", "client_cert_pem is missing: a client key needs its PEM certificate")
	case t.ClientKeyPEM != "" && !isPEMBlock(t.ClientKeyPEM):
		return invalid(field+".client_key_pem", "client_key_pem is not PEM: paste a \"-----BEGIN PRIVATE KEY-----\" block")
	}

	// A stored key that is not in the input is checked when the store
	// fills it in.
	if t.ClientKeyPEM == "" && t.ClientKeySet {
		probe := *t
		probe.ClientCertPEM, probe.ClientKeyPEM = "", ""
		_, err := probe.ClientConfig()
		return err
	}
	_, err := t.ClientConfig()
	return err
}

func isPEMBlock(text string) bool {
	block, _ := pem.Decode([]byte(text))
	return block != nil
}
