package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

func TestBundleCarriesNoCredentialSecret(t *testing.T) {
	s := openDialectWithSecrets(t, dialects[0].open(t))
	ctx := context.Background()
	seedTenant(t, s, "acme")
	if _, err := s.CreateConsumer(ctx, "acme", config.Consumer{Name: "alice"}); err != nil {
		t.Fatal(err)
	}

	const (
		apiKey     = "alice-api-key-0123456789"
		password   = "alice-password-0123456789"
		jwtSecret  = "alice-hs256-secret-0123456789abcdef"
		hmacSecret = "alice-hmac-secret-0123456789"
	)
	inputs := []CredentialInput{
		{Type: CredentialKeyAuth, Key: apiKey},
		{Type: "basic-auth", Username: "alice", Password: password},
		{Type: CredentialJWT, Algorithm: "HS256", Secret: jwtSecret},
		{Type: "hmac", KeyID: "alice-hmac", Secret: hmacSecret},
	}
	for _, input := range inputs {
		if _, err := s.CreateCredential(ctx, "acme", "alice", input); err != nil {
			t.Fatalf("CreateCredential(%s) error = %v", input.Type, err)
		}
	}

	b, err := s.Bundle(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Consumers) != 1 || len(b.Consumers[0].Credentials) != len(inputs) {
		t.Fatalf("bundle consumers = %+v, want alice with %d credentials", b.Consumers, len(inputs))
	}
	encoded, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{apiKey, password, jwtSecret, hmacSecret, "argon2"} {
		if strings.Contains(string(encoded), secret) {
			t.Errorf("bundle contains %q: %s", secret, encoded)
		}
	}
	for _, credential := range b.Consumers[0].Credentials {
		if credential.Type == CredentialJWT && (credential.PublicKey != "" || credential.Algorithm != "") {
			t.Errorf("HS256 credential in the bundle = %+v, want no key and no algorithm", credential)
		}
	}
}
