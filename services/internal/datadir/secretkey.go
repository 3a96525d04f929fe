package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"portcullis.dev/portal/secrets"
)

// SecretKeyFile is the name of the generated key that encrypts credential
// secrets.
const SecretKeyFile = "secret-key"

// SecretKey returns the 32-byte key that encrypts credential secrets. A
// non-empty fromEnv (base64) wins; otherwise the key is read from the data
// folder, or generated there on first start (mode 0600). The boolean
// reports whether a new key was generated.
func (d *Dir) SecretKey(fromEnv string) (key []byte, generated bool, err error) {
	if fromEnv != "" {
		key, err := secrets.ParseKey(fromEnv)
		if err != nil {
			return nil, false, fmt.Errorf("PORTCULLIS_SECRET_KEY: %w", err)
		}
		return key, false, nil
	}

	path := d.File(SecretKeyFile)
	stored, err := os.ReadFile(path)
	if err == nil {
		key, err := secrets.ParseKey(string(stored))
		if err != nil {
			return nil, false, fmt.Errorf("secret key in %q: %w (restore the file from a backup: without it stored credentials cannot be read)", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read secret key %q: %w", path, err)
	}

	key, err = secrets.NewKey()
	if err != nil {
		return nil, false, err
	}
	if err := writePrivate(path, []byte(secrets.EncodeKey(key)+"\n")); err != nil {
		return nil, false, err
	}
	return key, true, nil
}
