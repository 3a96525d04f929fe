// Package accounts holds the rules of tenant accounts that do not depend on
// the database: password rules and hashing, API token generation, roles, and
// the in-memory limiter of login attempts.
package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"portcullis.dev/tenants/config"
)

// Password length limits in bytes. The maximum bounds the work of one hash.
const (
	MinPasswordBytes = 12
	MaxPasswordBytes = 256
)

// Argon2id parameters of new hashes: 19 MiB of memory, 2 passes and one
// lane, the minimum that the OWASP Password Storage Cheat Sheet recommends
// for argon2id. Verify reads the parameters from each stored hash, so they
// can grow without invalidating old hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyBytes  = 32
	argonSaltBytes = 16
)

// ErrMismatch is returned by VerifyPassword for a wrong password.
var ErrMismatch = errors.New("password does not match")

// CheckPassword returns the field error on "password" for a password that
// breaks the rules, or nil for a valid one. The message never contains the
// password.
func CheckPassword(password string) *config.FieldError {
	switch {
	case len(password) < MinPasswordBytes:
		return config.Invalid("password", "password is %d bytes, below the minimum of %d: choose a longer passphrase", len(password), MinPasswordBytes)
	case len(password) > MaxPasswordBytes:
		return config.Invalid("password", "password is %d bytes, above the maximum of %d: choose a shorter passphrase", len(password), MaxPasswordBytes)
	case !utf8.ValidString(password):
		return config.Invalid("password", "password is not valid UTF-8: send it as UTF-8 text")
	case strings.TrimSpace(password) == "":
		return config.Invalid("password", "password is only whitespace: choose a passphrase with visible characters")
	}
	return nil
}

// HashPassword returns the argon2id hash of password in the PHC string
// format: $argon2id$v=19$m=MEMORY,t=TIME,p=THREADS$SALT$KEY.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}

	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyBytes)
	encode := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, encode(salt), encode(key)), nil
}

// VerifyPassword compares password with a hash from HashPassword in
// constant time. It returns ErrMismatch for a wrong password and another
// error for a hash it cannot read.
func VerifyPassword(encoded, password string) error {
	params, salt, want, err := parseHash(encoded)
	if err != nil {
		return err
	}

	got := argon2.IDKey([]byte(password), salt, params.time, params.memory, params.threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// dummyHash is verified when a login names an unknown email, so that such a
// login takes as long as one with a wrong password. It is made on first use
// to keep the hashing out of program start.
var dummyHash = sync.OnceValue(func() string { return mustHash("portcullis-timing-equalizer") })

// VerifyNothing spends the time of one VerifyPassword call.
func VerifyNothing(password string) {
	_ = VerifyPassword(dummyHash(), password)
}

func mustHash(password string) string {
	hash, err := HashPassword(password)
	if err != nil {
		panic(err)
	}
	return hash
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
}

// parseHash splits a PHC string into its parameters, salt and key.
func parseHash(encoded string) (argonParams, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return argonParams{}, nil, nil, errors.New("read password hash: not an argon2id PHC string")
	}

	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return argonParams{}, nil, nil, fmt.Errorf("read password hash: unsupported version %q", parts[2])
	}

	var params argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &params.memory, &params.time, &params.threads); err != nil {
		return argonParams{}, nil, nil, fmt.Errorf("read password hash: parameters %q: %w", parts[3], err)
	}

	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return argonParams{}, nil, nil, fmt.Errorf("read password hash: salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return argonParams{}, nil, nil, errors.New("read password hash: key is not base64")
	}
	return params, salt, key, nil
}
