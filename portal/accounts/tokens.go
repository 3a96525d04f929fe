package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"

	"portcullis.dev/tenants/config"
)

// Token prefixes. A prefix shows a leaked token's kind at a glance and lets
// a secret scanner find it.
const (
	// PersonalTokenPrefix starts a personal API token from POST /api/v1/tokens.
	PersonalTokenPrefix = "pct_"
	// SessionTokenPrefix starts a token that POST /api/v1/login returns.
	SessionTokenPrefix = "pcs_"
	// WebSessionPrefix starts the session token in the web UI's cookie. The
	// API rejects it, so a cookie value never works as a bearer token.
	WebSessionPrefix = "pcw_"
)

// Token kinds as the store records them.
const (
	KindPersonal = "personal"
	KindSession  = "session"
	// KindWeb is a web UI session from POST /login.
	KindWeb = "web"
)

// MaxEmailBytes is the maximum length of an email address (RFC 5321 limits
// a forward path to 256 octets including the angle brackets).
const MaxEmailBytes = 254

// MaxNameBytes is the maximum length of a user's display name and of a
// token's name.
const MaxNameBytes = 200

// NewToken returns a new random token of the kind with 32 bytes of entropy,
// and the hex SHA-256 under which the store keeps it.
func NewToken(kind string) (token, digest string, err error) {
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", "", fmt.Errorf("create %s token: %w", kind, err)
	}

	prefix := PersonalTokenPrefix
	switch kind {
	case KindSession:
		prefix = SessionTokenPrefix
	case KindWeb:
		prefix = WebSessionPrefix
	}
	token = prefix + hex.EncodeToString(random[:])
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of a token. A plain digest suffices
// because tokens carry 256 random bits, so no dictionary can guess them.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IsUserToken reports whether token has the prefix of a personal or session
// token.
func IsUserToken(token string) bool {
	return strings.HasPrefix(token, PersonalTokenPrefix) || strings.HasPrefix(token, SessionTokenPrefix)
}

// NormalizeEmail trims and lower-cases an address, so that one mailbox has
// one account whatever case it is typed in.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// CheckEmail returns the field error on "email" for an invalid address, or
// nil for a valid one. It expects a normalized address.
func CheckEmail(email string) *config.FieldError {
	switch {
	case email == "":
		return config.Invalid("email", "email is missing: send the address to sign in with")
	case len(email) > MaxEmailBytes:
		return config.Invalid("email", "email is %d bytes, above the maximum of %d", len(email), MaxEmailBytes)
	}

	parsed, err := mail.ParseAddress(email)
	if err != nil || parsed.Address != email || !strings.Contains(email, "@") {
		return config.Invalid("email", "email %q is not a plain address: send one such as name@example.com", email)
	}
	return nil
}
