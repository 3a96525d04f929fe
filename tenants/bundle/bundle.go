// Package bundle defines the immutable snapshot of one tenant's config at one
// revision. The portal builds bundles; edges serve only what a bundle holds.
package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"portcullis.dev/tenants/config"
)

// ErrTenantNotFound is returned by a Source when no tenant has the slug.
var ErrTenantNotFound = errors.New("tenant not found")

// Bundle is one tenant's whole config at one revision. Revisions of a tenant
// only grow, and a bundle never changes once built.
type Bundle struct {
	Tenant    string            `json:"tenant"`
	Revision  int64             `json:"revision"`
	Upstreams []config.Upstream `json:"upstreams"`
	Routes    []config.Route    `json:"routes"`
	Bindings  []config.Binding  `json:"bindings"`
	// Plugins holds the source of every plugin version that a binding uses,
	// keyed by Key(name, version).
	Plugins map[string]PluginCode `json:"plugins"`
	// Consumers lists the tenant's API clients with what an edge needs to
	// identify them: their credentials' ids, types and hints, the SHA-256
	// of each API key and each jwt public key, but no secrets. It is empty,
	// and left out of the hash input, for a tenant without consumers.
	Consumers []Consumer `json:"consumers,omitempty"`
	// DebugHeaders is the tenant's config.Tenant.DebugHeaders.
	DebugHeaders bool `json:"debug_headers,omitempty"`
	// Domains lists the tenant's verified custom domains with their TLS
	// certificates and private keys in PEM. The key is in plaintext, so a
	// bundle travels only over the edge sync API, which needs an edge
	// token. It is empty, and left out of the hash input, for a tenant
	// without verified domains.
	Domains []Domain `json:"domains,omitempty"`
	// Hash is the hex SHA-256 of the bundle's JSON encoding with Hash empty.
	Hash string `json:"hash"`
}

// PluginCode is the published source of one plugin version.
type PluginCode struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source"`
	// SHA256 is the hex SHA-256 of Source.
	SHA256 string `json:"sha256"`
	// Priority is the version's default priority, which a binding's own
	// priority overrides.
	Priority int `json:"priority,omitempty"`
	// TestVectors is the version's JSON array of test vectors, which an
	// edge runs before it swaps in a runtime with a version or config it
	// has not run yet. Empty means none.
	TestVectors json.RawMessage `json:"test_vectors,omitempty"`
	// Signature is the portal's base64 ed25519 signature of the version
	// (see plugins-marketplace/signing). An edge configured with the
	// portal's public key refuses code whose signature does not verify.
	Signature string `json:"signature,omitempty"`
	// Reviewed marks a version that the operator reviewed. Its bindings run
	// inside the edge process (the trusted tier), unless a binding's Tier
	// chooses otherwise. False runs them in a sandboxed worker process.
	Reviewed bool `json:"reviewed,omitempty"`
}

// Consumer is an API client of the tenant, without secrets.
type Consumer struct {
	Name        string          `json:"name"`
	Credentials []CredentialRef `json:"credentials"`
}

// CredentialRef names one credential of a consumer: its id, its type
// ("key-auth", "basic-auth", "jwt" or "hmac") and a hint that is not secret,
// such as the last 4 characters of an API key.
type CredentialRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Hint string `json:"hint"`

	// KeySHA256 is the hex SHA-256 of a key-auth credential's key, so an
	// edge can find the consumer of a presented key without the key.
	KeySHA256 string `json:"key_sha256,omitempty"`
	// Algorithm and PublicKey are set for a jwt credential with a public
	// key (RS, PS, ES or EdDSA); PublicKey is PEM.
	Algorithm string `json:"algorithm,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// Domain is a verified custom domain of the tenant. CertificatePEM is the
// leaf certificate followed by its chain, and both PEM fields are empty
// until a certificate is uploaded, in which case the edge serves the
// hostname with its default certificate.
type Domain struct {
	Hostname       string `json:"hostname"`
	CertificatePEM string `json:"certificate_pem,omitempty"`
	PrivateKeyPEM  string `json:"private_key_pem,omitempty"`
}

// Key returns the map key of a plugin version in Bundle.Plugins.
func Key(name, version string) string {
	return name + "@" + version
}

// Seal computes and stores the bundle's content hash.
func (b *Bundle) Seal() error {
	hash, err := b.contentHash()
	if err != nil {
		return err
	}
	b.Hash = hash
	return nil
}

// Verify checks that the stored hash matches the content.
func (b *Bundle) Verify() error {
	hash, err := b.contentHash()
	if err != nil {
		return err
	}
	if hash != b.Hash {
		return fmt.Errorf("bundle %s@%d: content hash %q does not match stored hash %q", b.Tenant, b.Revision, hash, b.Hash)
	}
	return nil
}

func (b *Bundle) contentHash() (string, error) {
	unsealed := *b
	unsealed.Hash = ""
	encoded, err := json.Marshal(&unsealed)
	if err != nil {
		return "", fmt.Errorf("encode bundle %s@%d: %w", b.Tenant, b.Revision, err)
	}
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:]), nil
}

// SourceHash returns the hex SHA-256 of a plugin source.
func SourceHash(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:])
}
