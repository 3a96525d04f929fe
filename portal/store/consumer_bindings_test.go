package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"portcullis.dev/portal/secrets"
	"portcullis.dev/tenants/config"
)

func openDialectWithSecrets(t *testing.T, dataSource string) *Store {
	t.Helper()
	key, err := secrets.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}

	s, err := Open(context.Background(), dataSource, Options{Compiler: fakeCompile, Secrets: box})
	if err != nil {
		t.Fatalf("Open(%q) error = %v", RedactURL(dataSource), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConsumerScopeBindings(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialectWithSecrets(t, dialect.open(t))
			ctx := context.Background()
			seedTenant(t, s, "acme")
			if _, err := s.CreateConsumer(ctx, "acme", config.Consumer{Name: "alice"}); err != nil {
				t.Fatal(err)
			}
			const key = "alice-key-0123456789"
			if _, err := s.CreateCredential(ctx, "acme", "alice", CredentialInput{Type: CredentialKeyAuth, Key: key}); err != nil {
				t.Fatal(err)
			}
			publicKey := ed25519PublicPEM(t)
			if _, err := s.CreateCredential(ctx, "acme", "alice", CredentialInput{Type: CredentialJWT, Algorithm: "EdDSA", PublicKey: publicKey}); err != nil {
				t.Fatal(err)
			}

			created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Consumer: "alice", Config: json.RawMessage(`{"greeting":"gold"}`)})
			if err != nil {
				t.Fatalf("CreateBinding(consumer alice) error = %v", err)
			}
			got, err := s.GetBinding(ctx, "acme", created.ID)
			if err != nil || got.Consumer != "alice" || got.Route != "" {
				t.Fatalf("GetBinding() = %+v, %v; want consumer alice and no route", got, err)
			}

			b, err := s.Bundle(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Bindings) != 1 || b.Bindings[0].Consumer != "alice" {
				t.Errorf("bundle bindings = %+v, want one binding of consumer alice", b.Bindings)
			}
			sum := sha256.Sum256([]byte(key))
			creds := b.Consumers[0].Credentials
			if len(creds) != 2 || creds[0].KeySHA256 != hex.EncodeToString(sum[:]) || creds[1].PublicKey != publicKey || creds[1].Algorithm != "EdDSA" {
				t.Errorf("bundle credentials = %+v, want the key's SHA-256 and the jwt public key", creds)
			}
			encoded, _ := json.Marshal(b)
			if strings.Contains(string(encoded), key) {
				t.Errorf("bundle holds the API key itself: %s", encoded)
			}

			var conflict *ConflictError
			if err := s.DeleteConsumer(ctx, "acme", "alice"); !errors.As(err, &conflict) || !strings.Contains(err.Error(), created.ID) {
				t.Errorf("DeleteConsumer(alice) error = %v, want a conflict naming binding %s", err, created.ID)
			}
		})
	}
}

func TestConsumerBindingErrors(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	seedTenant(t, s, "acme")
	before := revisionOf(t, s, "acme")

	tests := []struct {
		name      string
		binding   config.Binding
		wantField string
	}{
		{"unknown consumer", config.Binding{Plugin: "hello", Version: "1.0.0", Consumer: "ghost", Config: json.RawMessage(`{"greeting":"x"}`)}, "consumer"},
		{"route and consumer", config.Binding{Plugin: "hello", Version: "1.0.0", Route: "all", Consumer: "ghost", Config: json.RawMessage(`{"greeting":"x"}`)}, "consumer"},
		{"bad consumer name", config.Binding{Plugin: "hello", Version: "1.0.0", Consumer: "Not A Name", Config: json.RawMessage(`{"greeting":"x"}`)}, "consumer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateBinding(ctx, "acme", tt.binding)
			var field *config.FieldError
			if !errors.As(err, &field) || field.Field != tt.wantField {
				t.Fatalf("CreateBinding() error = %v, want a field error on %q", err, tt.wantField)
			}
		})
	}
	if got := revisionOf(t, s, "acme"); got != before {
		t.Errorf("revision = %d after refused writes, want %d", got, before)
	}
}

func ed25519PublicPEM(t *testing.T) string {
	t.Helper()
	public, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(public)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
