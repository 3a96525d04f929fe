// Package signing signs published plugin versions with the portal's ed25519
// key and verifies those signatures at the edge.
//
// The signed message is Digest(name, version, sourceSHA256): the SHA-256 of
// a fixed prefix, the plugin name, the version and the hex SHA-256 of the
// source, one per line. Binding name and version into the digest means that
// a signature of one version cannot vouch for another version's code.
package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// digestPrefix versions the signed message format.
const digestPrefix = "portcullis-plugin-signature-v1\n"

// ErrUnsigned reports plugin code that carries no signature.
var ErrUnsigned = errors.New("plugin code is not signed")

// ErrBadSignature reports a signature that does not verify under the key.
var ErrBadSignature = errors.New("plugin signature does not verify")

// Digest returns the SHA-256 that a plugin version's signature covers.
func Digest(name, version, sourceSHA256 string) []byte {
	sum := sha256.Sum256([]byte(digestPrefix + name + "\n" + version + "\n" + strings.ToLower(sourceSHA256) + "\n"))
	return sum[:]
}

// Signer signs plugin versions with a private key. The zero value is not
// usable; create one with NewSigner.
type Signer struct {
	private ed25519.PrivateKey
}

// NewSigner returns a Signer for the private key.
func NewSigner(private ed25519.PrivateKey) (*Signer, error) {
	if len(private) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("plugin signing key is %d bytes, want %d: generate a new key pair with signing.GenerateKey", len(private), ed25519.PrivateKeySize)
	}
	return &Signer{private: private}, nil
}

// Sign returns the base64 (standard encoding) ed25519 signature of the
// plugin version's digest.
func (s *Signer) Sign(name, version, sourceSHA256 string) string {
	signature := ed25519.Sign(s.private, Digest(name, version, sourceSHA256))
	return base64.StdEncoding.EncodeToString(signature)
}

// PublicKey returns the public half of the signer's key.
func (s *Signer) PublicKey() ed25519.PublicKey {
	return s.private.Public().(ed25519.PublicKey)
}

// Verify checks a base64 signature of a plugin version against the public
// key. It returns an error that wraps ErrUnsigned for an empty signature and
// ErrBadSignature for one that does not verify.
func Verify(public ed25519.PublicKey, name, version, sourceSHA256, signature string) error {
	if signature == "" {
		return fmt.Errorf("plugin %q version %q: %w", name, version, ErrUnsigned)
	}
	decoded, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(decoded) != ed25519.SignatureSize {
		return fmt.Errorf("plugin %q version %q: signature is not %d bytes of base64: %w", name, version, ed25519.SignatureSize, ErrBadSignature)
	}
	if !ed25519.Verify(public, Digest(name, version, sourceSHA256), decoded) {
		return fmt.Errorf("plugin %q version %q: %w under the configured portal key", name, version, ErrBadSignature)
	}
	return nil
}

// GenerateKey returns a new ed25519 key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate plugin signing key: %w", err)
	}
	return public, private, nil
}

// EncodePublicKey returns the base64 (standard encoding) form of a public
// key, as the edge sync API sends it and the edge's flag takes it.
func EncodePublicKey(public ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(public)
}

// ParsePublicKey decodes a base64 public key.
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("plugin public key is not base64: %w", err)
	}
	if len(decoded) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("plugin public key is %d bytes, want %d: pass the key from the portal's plugin-signing.pub file or its edge sync API", len(decoded), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(decoded), nil
}

// EncodePrivateKey returns the base64 form of a private key's 32-byte seed.
func EncodePrivateKey(private ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(private.Seed())
}

// ParsePrivateKey decodes a base64 seed written by EncodePrivateKey.
func ParsePrivateKey(text string) (ed25519.PrivateKey, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("plugin signing key is not base64: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("plugin signing key is %d bytes, want a %d-byte seed", len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
