package runtime

import (
	"errors"
	"strings"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/tenants/bundle"
)

// signedBundle returns validBundle with each plugin signed by signer.
func signedBundle(t *testing.T, signer *signing.Signer) *bundle.Bundle {
	t.Helper()

	b := validBundle()
	for key, code := range b.Plugins {
		code.Signature = signer.Sign(code.Name, code.Version, code.SHA256)
		b.Plugins[key] = code
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return b
}

func TestBuildVerifiesSignatures(t *testing.T) {
	public, private, err := signing.GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	signer, err := signing.NewSigner(private)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	otherPublic, _, _ := signing.GenerateKey()

	tests := []struct {
		name   string
		key    []byte
		tamper func(b *bundle.Bundle)
		want   error
	}{
		{"signed", public, func(*bundle.Bundle) {}, nil},
		{"tampered source", public, func(b *bundle.Bundle) {
			// A bundle rewritten in transit: new source, a matching hash
			// and a resealed bundle, but the signature of the old code.
			code := b.Plugins[bundle.Key("auth", "1.0.0")]
			code.Source = strings.Replace(code.Source, `"1"`, `"evil"`, 1)
			code.SHA256 = bundle.SourceHash(code.Source)
			b.Plugins[bundle.Key("auth", "1.0.0")] = code
		}, signing.ErrBadSignature},
		{"unsigned", public, func(b *bundle.Bundle) {
			code := b.Plugins[bundle.Key("log", "2.0.0")]
			code.Signature = ""
			b.Plugins[bundle.Key("log", "2.0.0")] = code
		}, signing.ErrUnsigned},
		{"other portal key", otherPublic, func(*bundle.Bundle) {}, signing.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := signedBundle(t, signer)
			tt.tamper(b)
			if err := b.Seal(); err != nil {
				t.Fatalf("Seal: %v", err)
			}
			compiler := chain.NewCompiler(0)
			compiler.RequireSignatures(tt.key)

			_, err := Build(b, compiler)
			if tt.want == nil && err != nil {
				t.Fatalf("Build() error = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Build() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestBuildWithoutKeyRunsUnsigned(t *testing.T) {
	b := validBundle()
	if err := b.Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if _, err := Build(b, chain.NewCompiler(0)); err != nil {
		t.Errorf("Build(unsigned, no key) error = %v, want nil", err)
	}
}
