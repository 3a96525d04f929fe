package datadir

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// AdminTokenFile is the name of the generated operator token file.
const AdminTokenFile = "admin-token"

// minTokenLength is the shortest operator token accepted from a file or the
// environment. Shorter tokens are too easy to guess.
const minTokenLength = 16

// AdminToken returns the operator token. A non-empty fromEnv wins; otherwise
// the token is read from the data folder, or generated there on first start
// (mode 0600). The boolean reports whether a new token was generated.
func (d *Dir) AdminToken(fromEnv string) (token string, generated bool, err error) {
	if fromEnv != "" {
		if len(fromEnv) < minTokenLength {
			return "", false, fmt.Errorf("PORTCULLIS_ADMIN_TOKEN is %d characters long: use at least %d", len(fromEnv), minTokenLength)
		}
		return fromEnv, false, nil
	}

	path := d.File(AdminTokenFile)
	stored, err := os.ReadFile(path)
	if err == nil {
		token = strings.TrimSpace(string(stored))
		if len(token) < minTokenLength {
			return "", false, fmt.Errorf("operator token in %q is %d characters long: use at least %d, or delete the file to generate a new one", path, len(token), minTokenLength)
		}
		return token, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read operator token %q: %w", path, err)
	}

	token, err = newToken()
	if err != nil {
		return "", false, err
	}
	if err := writePrivate(path, []byte(token+"\n")); err != nil {
		return "", false, err
	}
	return token, true, nil
}

func newToken() (string, error) {
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("generate operator token: %w", err)
	}
	return "pct_" + base64.RawURLEncoding.EncodeToString(random), nil
}
