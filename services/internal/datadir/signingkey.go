package datadir

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"portcullis.dev/plugins-marketplace/signing"
)

// Files of the key pair that signs published plugin versions.
const (
	// PluginSigningKeyFile holds the private key's base64 seed, mode 0600.
	PluginSigningKeyFile = "plugin-signing.key"
	// PluginPublicKeyFile holds the base64 public key, for edges that take
	// it by flag.
	PluginPublicKeyFile = "plugin-signing.pub"
)

// PluginSigningKey returns the ed25519 key that signs plugin versions. It is
// read from the data folder, or generated there on first start: the private
// key with mode 0600 and the public key beside it. The boolean reports
// whether a new key was generated.
func (d *Dir) PluginSigningKey() (key ed25519.PrivateKey, generated bool, err error) {
	path := d.File(PluginSigningKeyFile)
	stored, err := os.ReadFile(path)
	if err == nil {
		key, err := signing.ParsePrivateKey(string(stored))
		if err != nil {
			return nil, false, fmt.Errorf("plugin signing key in %q: %w (restore the file from a backup: edges reject versions signed by another key)", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read plugin signing key %q: %w", path, err)
	}

	public, private, err := signing.GenerateKey()
	if err != nil {
		return nil, false, err
	}
	if err := writePrivate(path, []byte(signing.EncodePrivateKey(private)+"\n")); err != nil {
		return nil, false, err
	}
	if err := writePrivate(d.File(PluginPublicKeyFile), []byte(signing.EncodePublicKey(public)+"\n")); err != nil {
		return nil, false, err
	}
	return private, true, nil
}
