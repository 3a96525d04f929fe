package signing

import (
	"errors"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	public, private, err := GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey() error = %v", err)
	}
	signer, err := NewSigner(private)
	if err != nil {
		t.Fatalf("NewSigner() error = %v", err)
	}
	hash := "ab12"
	signature := signer.Sign("acme/auth", "1.0.0", hash)

	if err := Verify(public, "acme/auth", "1.0.0", hash, signature); err != nil {
		t.Errorf("Verify(valid) error = %v", err)
	}

	tests := []struct {
		name      string
		plugin    string
		version   string
		hash      string
		signature string
		want      error
	}{
		{"other source", "acme/auth", "1.0.0", "ab13", signature, ErrBadSignature},
		{"other version", "acme/auth", "1.0.1", hash, signature, ErrBadSignature},
		{"other name", "acme/other", "1.0.0", hash, signature, ErrBadSignature},
		{"empty signature", "acme/auth", "1.0.0", hash, "", ErrUnsigned},
		{"not base64", "acme/auth", "1.0.0", hash, "%%%", ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(public, tt.plugin, tt.version, tt.hash, tt.signature)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyOtherKey(t *testing.T) {
	_, private, _ := GenerateKey()
	other, _, _ := GenerateKey()
	signer, _ := NewSigner(private)

	err := Verify(other, "a", "1.0.0", "ff", signer.Sign("a", "1.0.0", "ff"))
	if !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(other key) error = %v, want ErrBadSignature", err)
	}
}

func TestKeyEncodingRoundTrip(t *testing.T) {
	public, private, _ := GenerateKey()

	parsedPublic, err := ParsePublicKey(EncodePublicKey(public))
	if err != nil {
		t.Fatalf("ParsePublicKey() error = %v", err)
	}
	if !parsedPublic.Equal(public) {
		t.Errorf("public key changed in the round trip")
	}
	parsedPrivate, err := ParsePrivateKey(EncodePrivateKey(private))
	if err != nil {
		t.Fatalf("ParsePrivateKey() error = %v", err)
	}
	if !parsedPrivate.Equal(private) {
		t.Errorf("private key changed in the round trip")
	}
	if _, err := ParsePublicKey("c2hvcnQ="); err == nil {
		t.Errorf("ParsePublicKey(short) error = nil, want an error")
	}
}
