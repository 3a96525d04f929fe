package store

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"

	"portcullis.dev/portal/accounts"
)

// Credential types.
const (
	CredentialKeyAuth   = "key-auth"
	CredentialBasicAuth = "basic-auth"
	CredentialJWT       = "jwt"
	CredentialHMAC      = "hmac"
)

// Limits of credential fields, in bytes.
const (
	MinAPIKeyLength     = 16
	MaxSecretLength     = 1024
	MinJWTSecretLength  = 32
	MinHMACSecretLength = 16
	MaxPublicKeyLength  = 16 << 10
)

// keyPattern allows printable ASCII without spaces in API keys, usernames
// and HMAC key ids, because clients send them in headers.
var keyPattern = regexp.MustCompile(`^[\x21-\x7e]+$`)

// CredentialInput is the body of a credential create request. Which fields
// apply depends on Type.
type CredentialInput struct {
	Type string `json:"type"`
	// Key is the key-auth API key. Empty means a generated key.
	Key       string `json:"key,omitempty"`
	Username  string `json:"username,omitempty"`
	Password  string `json:"password,omitempty"`
	Algorithm string `json:"algorithm,omitempty"`
	// Secret is the HS256 secret of a jwt credential, or the secret of an
	// hmac credential.
	Secret string `json:"secret,omitempty"`
	// PublicKey is the PEM public key of an RS256, ES256 or EdDSA jwt
	// credential.
	PublicKey string `json:"public_key,omitempty"`
	KeyID     string `json:"key_id,omitempty"`
}

// checkedCredential is a validated credential ready to store: the secret
// in plaintext until the store seals it.
type checkedCredential struct {
	row credentialRow
	// secret is sealed into row.SecretSealed.
	secret string
	// generatedKey is the key-auth key that the portal generated, returned
	// once in the create response.
	generatedKey string
}

// checkCredential validates the input and prepares its row.
func checkCredential(input CredentialInput) (checkedCredential, error) {
	switch input.Type {
	case CredentialKeyAuth:
		return checkKeyAuth(input)
	case CredentialBasicAuth:
		return checkBasicAuth(input)
	case CredentialJWT:
		return checkJWT(input)
	case CredentialHMAC:
		return checkHMAC(input)
	}
	return checkedCredential{}, fieldError("type", "type %q is not supported: use key-auth, basic-auth, jwt or hmac", input.Type)
}

// rejectFields returns an error for the first field that is set but does
// not apply to the credential type.
func rejectFields(input CredentialInput, fields map[string]string) error {
	for name, value := range fields {
		if value != "" {
			return fieldError(name, "%s does not apply to a %s credential: leave it out", name, input.Type)
		}
	}
	return nil
}

func checkKeyAuth(input CredentialInput) (checkedCredential, error) {
	if err := rejectFields(input, map[string]string{"username": input.Username, "password": input.Password, "algorithm": input.Algorithm, "secret": input.Secret, "public_key": input.PublicKey, "key_id": input.KeyID}); err != nil {
		return checkedCredential{}, err
	}

	key, generated := input.Key, ""
	if key == "" {
		var err error
		if key, err = newAPIKey(); err != nil {
			return checkedCredential{}, err
		}
		generated = key
	}
	if len(key) < MinAPIKeyLength || len(key) > MaxSecretLength || !keyPattern.MatchString(key) {
		return checkedCredential{}, fieldError("key", "key must be %d to %d printable ASCII characters without spaces: send a longer key, or leave key out to get a generated one", MinAPIKeyLength, MaxSecretLength)
	}

	digest := sha256.Sum256([]byte(key))
	keyHash := hex.EncodeToString(digest[:])
	row := credentialRow{Type: CredentialKeyAuth, Hint: key[len(key)-4:], KeySHA256: &keyHash}
	return checkedCredential{row: row, secret: key, generatedKey: generated}, nil
}

func checkBasicAuth(input CredentialInput) (checkedCredential, error) {
	if err := rejectFields(input, map[string]string{"key": input.Key, "algorithm": input.Algorithm, "secret": input.Secret, "public_key": input.PublicKey, "key_id": input.KeyID}); err != nil {
		return checkedCredential{}, err
	}
	if len(input.Username) > 200 || !keyPattern.MatchString(input.Username) || strings.Contains(input.Username, ":") {
		return checkedCredential{}, fieldError("username", "username must be 1 to 200 printable ASCII characters without spaces or colons")
	}
	if issue := accounts.CheckPassword(input.Password); issue != nil {
		return checkedCredential{}, issue
	}

	hash, err := accounts.HashPassword(input.Password)
	if err != nil {
		return checkedCredential{}, err
	}
	row := credentialRow{Type: CredentialBasicAuth, Hint: input.Username, Username: input.Username, PasswordHash: hash}
	return checkedCredential{row: row}, nil
}

func checkJWT(input CredentialInput) (checkedCredential, error) {
	if err := rejectFields(input, map[string]string{"key": input.Key, "username": input.Username, "password": input.Password, "key_id": input.KeyID}); err != nil {
		return checkedCredential{}, err
	}

	if input.Algorithm == "HS256" {
		if input.PublicKey != "" {
			return checkedCredential{}, fieldError("public_key", "public_key does not apply to HS256: send secret instead")
		}
		if len(input.Secret) < MinJWTSecretLength || len(input.Secret) > MaxSecretLength {
			return checkedCredential{}, fieldError("secret", "an HS256 secret must be %d to %d bytes: use at least 256 random bits", MinJWTSecretLength, MaxSecretLength)
		}
		row := credentialRow{Type: CredentialJWT, Hint: "HS256", Algorithm: "HS256"}
		return checkedCredential{row: row, secret: input.Secret}, nil
	}

	if input.Secret != "" {
		return checkedCredential{}, fieldError("secret", "secret applies only to HS256: send public_key for %q", input.Algorithm)
	}
	fingerprint, err := checkPublicKey(input.Algorithm, input.PublicKey)
	if err != nil {
		return checkedCredential{}, err
	}
	row := credentialRow{Type: CredentialJWT, Hint: input.Algorithm + " " + fingerprint, Algorithm: input.Algorithm, PublicKey: input.PublicKey}
	return checkedCredential{row: row}, nil
}

// checkPublicKey parses a PEM public key, checks that it fits the JWT
// algorithm, and returns the first 16 hex digits of its SHA-256 fingerprint.
func checkPublicKey(algorithm, text string) (string, error) {
	switch algorithm {
	case "RS256", "ES256", "EdDSA":
	default:
		return "", fieldError("algorithm", "algorithm %q is not supported: use HS256, RS256, ES256 or EdDSA", algorithm)
	}
	if len(text) > MaxPublicKeyLength {
		return "", fieldError("public_key", "public_key is %d bytes, above the limit of %d", len(text), MaxPublicKeyLength)
	}

	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "PUBLIC KEY" {
		return "", fieldError("public_key", "public_key is not a PEM block of type PUBLIC KEY: send the PKIX public key in PEM")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return "", fieldError("public_key", "public_key is not a valid PKIX public key: %v", err)
	}
	if err := keyMismatch(algorithm, key); err != nil {
		return "", err
	}

	digest := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(digest[:8]), nil
}

// keyMismatch returns a field error on public_key when the key does not
// fit the algorithm, or nil.
func keyMismatch(algorithm string, key any) error {
	switch typed := key.(type) {
	case *rsa.PublicKey:
		if algorithm != "RS256" {
			return fieldError("public_key", "an RSA key needs algorithm RS256")
		}
		if typed.N.BitLen() < 2048 {
			return fieldError("public_key", "the RSA key has %d bits: use at least 2048", typed.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if algorithm != "ES256" || typed.Curve != elliptic.P256() {
			return fieldError("public_key", "an ECDSA key needs algorithm ES256 and curve P-256")
		}
	case ed25519.PublicKey:
		if algorithm != "EdDSA" {
			return fieldError("public_key", "an Ed25519 key needs algorithm EdDSA")
		}
	default:
		return fieldError("public_key", "key type %T is not supported: use RSA, ECDSA P-256 or Ed25519", key)
	}
	return nil
}

func checkHMAC(input CredentialInput) (checkedCredential, error) {
	if err := rejectFields(input, map[string]string{"key": input.Key, "username": input.Username, "password": input.Password, "algorithm": input.Algorithm, "public_key": input.PublicKey}); err != nil {
		return checkedCredential{}, err
	}
	if len(input.KeyID) > 200 || !keyPattern.MatchString(input.KeyID) {
		return checkedCredential{}, fieldError("key_id", "key_id must be 1 to 200 printable ASCII characters without spaces")
	}
	if len(input.Secret) < MinHMACSecretLength || len(input.Secret) > MaxSecretLength {
		return checkedCredential{}, fieldError("secret", "an hmac secret must be %d to %d bytes", MinHMACSecretLength, MaxSecretLength)
	}

	row := credentialRow{Type: CredentialHMAC, Hint: input.KeyID, KeyID: input.KeyID}
	return checkedCredential{row: row, secret: input.Secret}, nil
}

// newAPIKey returns a random key-auth key with 256 bits of entropy.
func newAPIKey() (string, error) {
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("generate API key: %w", err)
	}
	return "pck_" + base64.RawURLEncoding.EncodeToString(random[:]), nil
}
