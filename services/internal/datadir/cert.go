package datadir

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"time"
)

// Names of the development certificate files inside the data folder.
const (
	DevCertFile = "dev-cert.pem"
	DevKeyFile  = "dev-key.pem"
)

// devCertLifetime is how long a generated development certificate is valid.
const devCertLifetime = 365 * 24 * time.Hour

// DevCertificate loads the development certificate of the data folder, or
// generates a self-signed one on first start. It covers localhost, the
// loopback addresses, the base domain and every name directly under it.
func (d *Dir) DevCertificate(baseDomain string) (tls.Certificate, error) {
	certPath, keyPath := d.File(DevCertFile), d.File(DevKeyFile)

	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return cert, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("load development certificate %q: %w (delete both files to generate new ones)", certPath, err)
	}

	certPEM, keyPEM, err := generateDevCertificate(baseDomain)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writePrivate(keyPath, keyPEM); err != nil {
		return tls.Certificate{}, err
	}
	if err := writePrivate(certPath, certPEM); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func generateDevCertificate(baseDomain string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate development key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, fmt.Errorf("generate certificate serial: %w", err)
	}

	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Portcullis development"}, CommonName: baseDomain},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devCertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              devCertNames(baseDomain),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create development certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode development key: %w", err)
	}

	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

func devCertNames(baseDomain string) []string {
	names := []string{"localhost", "*.localhost"}
	if baseDomain != "" && baseDomain != "localhost" {
		names = append(names, baseDomain, "*."+baseDomain)
	}
	return names
}
