package testcert

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
	"time"
)

func TestNewValidNowForNames(t *testing.T) {
	cert := New(t, "api.example.com", "www.example.com")

	if got := cert.Leaf.Subject.CommonName; got != "api.example.com" {
		t.Errorf("CommonName = %q, want the first DNS name", got)
	}
	if err := cert.Leaf.VerifyHostname("www.example.com"); err != nil {
		t.Errorf("VerifyHostname(www.example.com): %v", err)
	}
	now := time.Now()
	if now.Before(cert.Leaf.NotBefore) || now.After(cert.Leaf.NotAfter) {
		t.Errorf("validity %v to %v does not include now", cert.Leaf.NotBefore, cert.Leaf.NotAfter)
	}
	if cert.Leaf.IsCA {
		t.Error("New issued a CA certificate, want a server certificate")
	}
}

func TestPEMMatchesLeafAndKey(t *testing.T) {
	cert := New(t, "api.example.com")

	pair, err := tls.X509KeyPair([]byte(cert.CertificatePEM), []byte(cert.PrivateKeyPEM))
	if err != nil {
		t.Fatalf("X509KeyPair of the PEM: %v", err)
	}
	if !pair.Leaf.Equal(cert.Leaf) {
		t.Error("CertificatePEM does not hold Leaf")
	}
	if block, _ := pem.Decode([]byte(cert.PrivateKeyPEM)); block == nil || block.Type != "PRIVATE KEY" {
		t.Errorf("PrivateKeyPEM = %q, want one PKCS #8 PRIVATE KEY block", cert.PrivateKeyPEM)
	}
}

func TestIssueValidityWindow(t *testing.T) {
	notBefore := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	notAfter := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	expired := Issue(t, []string{"api.example.com"}, Options{NotBefore: notBefore, NotAfter: notAfter})

	if !expired.Leaf.NotBefore.Equal(notBefore) || !expired.Leaf.NotAfter.Equal(notAfter) {
		t.Errorf("validity = %v to %v, want %v to %v", expired.Leaf.NotBefore, expired.Leaf.NotAfter, notBefore, notAfter)
	}
}

func TestIssueSignedByCA(t *testing.T) {
	ca := Issue(t, []string{"ca.example.net"}, Options{IsCA: true})
	leaf := Issue(t, []string{"api.example.com"}, Options{Parent: ca})

	if !ca.Leaf.IsCA || ca.Leaf.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("CA certificate: IsCA %v, key usage %v; want a CA that may sign", ca.Leaf.IsCA, ca.Leaf.KeyUsage)
	}
	if err := leaf.Leaf.CheckSignatureFrom(ca.Leaf); err != nil {
		t.Errorf("leaf is not signed by the CA: %v", err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "api.example.com", Roots: ca.Pool()}); err != nil {
		t.Errorf("verify leaf against the CA pool: %v", err)
	}
}

func TestTLSHandshakeWithIPAddress(t *testing.T) {
	cert := Issue(t, []string{"localhost"}, Options{CommonName: "edge test", IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if got := cert.Leaf.Subject.CommonName; got != "edge test" {
		t.Errorf("CommonName = %q, want the option", got)
	}

	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.TLSCertificate()}})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer listener.Close()
	go func() {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.(*tls.Conn).Handshake()
	}()

	conn, err := tls.Dial("tcp", listener.Addr().String(), &tls.Config{RootCAs: cert.Pool(), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("handshake trusting Pool() with server name 127.0.0.1: %v", err)
	}
	_ = conn.Close()
}
