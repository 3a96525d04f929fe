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
	// Consumers lists the tenant's API clients with their credentials'
	// ids, types and hints, but no secrets. It is empty, and left out of
	// the hash input, for a tenant without consumers.
	//
	// NOTE: the edge does not use consumers yet. Matching key-auth
	// requests to consumers needs a key lookup that this slice omits.
	Consumers []Consumer `json:"consumers,omitempty"`
	// DebugHeaders is the tenant's config.Tenant.DebugHeaders.
	DebugHeaders bool `json:"debug_headers,omitempty"`
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
