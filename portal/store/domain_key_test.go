package store

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/testcert"
)

// ed25519KeyPEM returns a new Ed25519 private key as a PKCS #8 PEM block.
func ed25519KeyPEM(t *testing.T) string {
	t.Helper()

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestCheckCertificateNamesKeyProblems(t *testing.T) {
	good := testcert.New(t, "api.example.com")
	other := testcert.New(t, "api.example.com")
	encrypted := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
	unparsable := "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"

	tests := []struct {
		name string
		key  string
		want string
	}{
		{"key of another certificate", other.PrivateKeyPEM, "private_key_pem does not match the public key of the leaf certificate"},
		{"key of another algorithm", ed25519KeyPEM(t), "private_key_pem is an Ed25519 key, but the leaf certificate has an ECDSA key"},
		{"certificate in key field", good.CertificatePEM, `private_key_pem contains a "CERTIFICATE" PEM block but no private key`},
		{"encrypted key", encrypted, "private_key_pem is encrypted"},
		{"key that does not parse", unparsable, "does not parse as a PKCS #8, PKCS #1 or SEC 1 private key"},
		{"text without PEM", "not a key", "private_key_pem contains no PEM private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := CertificateInput{CertificatePEM: good.CertificatePEM, PrivateKeyPEM: tt.key}
			err := checkCertificate("api.example.com", input, time.Now())

			var field *config.FieldError
			if !errors.As(err, &field) {
				t.Fatalf("checkCertificate() error = %v, want a field error", err)
			}
			if field.Field != "private_key_pem" {
				t.Errorf("field = %q, want private_key_pem", field.Field)
			}
			if !strings.Contains(field.Message, tt.want) {
				t.Errorf("message = %q, want it to contain %q", field.Message, tt.want)
			}
			if strings.Contains(field.Message, "tls:") {
				t.Errorf("message = %q quotes crypto/tls", field.Message)
			}
		})
	}
}

func TestCheckCertificateAcceptsMatchingKey(t *testing.T) {
	good := testcert.New(t, "api.example.com")
	input := CertificateInput{CertificatePEM: good.CertificatePEM, PrivateKeyPEM: good.PrivateKeyPEM}
	if err := checkCertificate("api.example.com", input, time.Now()); err != nil {
		t.Errorf("checkCertificate() error = %v, want nil", err)
	}
}
