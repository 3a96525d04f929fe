package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// issued is a certificate and key in PEM, with the parsed pair.
type issued struct {
	certPEM string
	keyPEM  string
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// issue creates a certificate signed by parent, or a self-signed CA when
// parent is nil.
func issue(t *testing.T, parent *issued, template *x509.Certificate) *issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	template.SerialNumber = big.NewInt(time.Now().UnixNano())
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(time.Hour)

	signer, signerCert := key, template
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	return &issued{
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		cert:    cert,
		key:     key,
	}
}

// pki is a private CA with a server certificate for "api.internal" and
// 127.0.0.1, and a client certificate for "edge".
type pki struct {
	ca, server, client *issued
}

func newPKI(t *testing.T) pki {
	t.Helper()
	ca := issue(t, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
	server := issue(t, ca, &x509.Certificate{
		Subject: pkix.Name{CommonName: "api.internal"}, DNSNames: []string{"api.internal"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	client := issue(t, ca, &x509.Certificate{
		Subject: pkix.Name{CommonName: "edge"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	return pki{ca: ca, server: server, client: client}
}

// startTLS starts an HTTP/2-enabled TLS upstream that requires a client
// certificate from the CA and responds with its protocol and the client's
// common name.
func startTLS(t *testing.T, keys pki) *httptest.Server {
	t.Helper()
	pair, err := tls.X509KeyPair([]byte(keys.server.certPEM), []byte(keys.server.keyPEM))
	if err != nil {
		t.Fatalf("server key pair: %v", err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(keys.ca.cert)

	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto+" "+r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	server.EnableHTTP2 = true
	server.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	server.StartTLS()
	t.Cleanup(server.Close)
	return server
}

func TestH2OverTLSWithClientCertificate(t *testing.T) {
	keys := newPKI(t)
	server := startTLS(t, keys)
	u := newUpstreams(t, UpstreamsOptions{})
	withCert := &config.UpstreamTLS{CAPEM: keys.ca.certPEM, ClientCertPEM: keys.client.certPEM, ClientKeyPEM: keys.client.keyPEM}
	port := server.Listener.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name     string
		upstream config.Upstream
		want     string
	}{
		{
			name:     "h2 by IP address",
			upstream: config.Upstream{Name: "h2", Protocol: config.ProtocolH2, Targets: targets(server.URL), TLS: withCert},
			want:     "HTTP/2.0 edge",
		},
		{
			name:     "auto negotiates h2",
			upstream: config.Upstream{Name: "auto", Targets: targets(server.URL), TLS: withCert},
			want:     "HTTP/2.0 edge",
		},
		{
			name:     "http1 only",
			upstream: config.Upstream{Name: "h1", Protocol: config.ProtocolHTTP1, Targets: targets(server.URL), TLS: withCert},
			want:     "HTTP/1.1 edge",
		},
		{
			name: "server name override",
			upstream: config.Upstream{Name: "sni", Protocol: config.ProtocolH2, Targets: targets("https://localhost:" + strconv.Itoa(port)),
				TLS: &config.UpstreamTLS{CAPEM: keys.ca.certPEM, ClientCertPEM: keys.client.certPEM, ClientKeyPEM: keys.client.keyPEM, ServerName: "api.internal"}},
			want: "HTTP/2.0 edge",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, u, build(t, tt.upstream), http.MethodGet, "", nil)
			if got.err != nil || got.body != tt.want {
				t.Errorf("response = %q, %v; want %q", got.body, got.err, tt.want)
			}
		})
	}
}

func TestTLSRejections(t *testing.T) {
	keys := newPKI(t)
	server := startTLS(t, keys)
	port := server.Listener.Addr().(*net.TCPAddr).Port
	u := newUpstreams(t, UpstreamsOptions{})

	tests := []struct {
		name string
		tls  *config.UpstreamTLS
		url  string
	}{
		{name: "no client certificate", tls: &config.UpstreamTLS{CAPEM: keys.ca.certPEM}, url: server.URL},
		{name: "unknown CA", tls: &config.UpstreamTLS{ClientCertPEM: keys.client.certPEM, ClientKeyPEM: keys.client.keyPEM}, url: server.URL},
		{name: "name not in certificate", tls: &config.UpstreamTLS{CAPEM: keys.ca.certPEM, ClientCertPEM: keys.client.certPEM, ClientKeyPEM: keys.client.keyPEM}, url: "https://localhost:" + strconv.Itoa(port)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upstream := config.Upstream{Name: strings.ReplaceAll(tt.name, " ", "-"), Protocol: config.ProtocolH2, Targets: targets(tt.url), TLS: tt.tls, Retries: new(0)}
			if got := send(t, u, build(t, upstream), http.MethodGet, "", nil); got.err == nil {
				t.Errorf("request succeeded with %q, want a TLS failure", got.body)
			}
		})
	}
}

func TestH2CPriorKnowledge(t *testing.T) {
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "h2c "+r.Proto)
	}))
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	server.Config.Protocols = protocols
	server.Start()
	t.Cleanup(server.Close)
	u := newUpstreams(t, UpstreamsOptions{})

	got := send(t, u, build(t, config.Upstream{Protocol: config.ProtocolH2C, Targets: targets(server.URL)}), http.MethodGet, "", nil)
	if got.err != nil || got.body != "h2c HTTP/2.0" {
		t.Errorf("response = %q, %v; want \"h2c HTTP/2.0\"", got.body, got.err)
	}
}
