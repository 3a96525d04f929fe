// Package secrets encrypts the credential secrets that the portal stores,
// such as consumer API keys, with AES-256-GCM.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an encryption key in bytes (AES-256).
const KeySize = 32

// sealedPrefix marks the format of a sealed value, so that a later key
// rotation can tell formats apart.
const sealedPrefix = "v1:"

// Box encrypts and decrypts values with one key. It is safe for concurrent
// use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a key of KeySize bytes.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key is %d bytes, want %d: pass the base64 of 32 random bytes", len(key), KeySize)
	}

	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create GCM: %w", err)
	}
	return &Box{aead: aead}, nil
}

// NewKey returns a random key of KeySize bytes.
func NewKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	return key, nil
}

// ParseKey decodes a key from standard base64, with or without padding.
func ParseKey(encoded string) ([]byte, error) {
	trimmed := strings.TrimRight(strings.TrimSpace(encoded), "=")
	key, err := base64.RawStdEncoding.DecodeString(trimmed)
	if err != nil {
		return nil, fmt.Errorf("secret key is not valid base64: %w (generate one with: openssl rand -base64 32)", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key is %d bytes after base64 decoding, want %d (generate one with: openssl rand -base64 32)", len(key), KeySize)
	}
	return key, nil
}

// EncodeKey returns the standard base64 of a key, the form ParseKey reads.
func EncodeKey(key []byte) string {
	return base64.StdEncoding.EncodeToString(key)
}

// Seal encrypts plaintext with a random nonce. The associated data, such as
// the credential id, binds the ciphertext to its row: Open with other
// associated data fails.
func (b *Box) Seal(plaintext, associated string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("generate nonce: %w", err)
	}

	sealed := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(associated))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Open decrypts a value that Seal returned with the same associated data.
func (b *Box) Open(sealed, associated string) (string, error) {
	encoded, found := strings.CutPrefix(sealed, sealedPrefix)
	if !found {
		return "", errors.New("open secret: unknown format: the value was not sealed by this version")
	}
	data, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("open secret: %w", err)
	}
	if len(data) < b.aead.NonceSize() {
		return "", errors.New("open secret: value is shorter than a nonce")
	}

	nonce, ciphertext := data[:b.aead.NonceSize()], data[b.aead.NonceSize():]
	plaintext, err := b.aead.Open(nil, nonce, ciphertext, []byte(associated))
	if err != nil {
		return "", fmt.Errorf("open secret: %w (was it sealed with another key?)", err)
	}
	return string(plaintext), nil
}
