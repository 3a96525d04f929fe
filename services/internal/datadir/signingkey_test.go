package datadir

import (
	"os"
	"testing"

	"portcullis.dev/plugins-marketplace/signing"
)

func TestPluginSigningKeyGeneratedOnce(t *testing.T) {
	dir, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}

	first, generated, err := dir.PluginSigningKey()
	if err != nil || !generated {
		t.Fatalf("first PluginSigningKey() = generated %v, error %v; want a new key", generated, err)
	}
	info, err := os.Stat(dir.File(PluginSigningKeyFile))
	if err != nil {
		t.Fatalf("stat key file: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}

	second, generated, err := dir.PluginSigningKey()
	if err != nil || generated {
		t.Fatalf("second PluginSigningKey() = generated %v, error %v; want the stored key", generated, err)
	}
	if !first.Equal(second) {
		t.Errorf("second PluginSigningKey() returned another key")
	}

	stored, err := os.ReadFile(dir.File(PluginPublicKeyFile))
	if err != nil {
		t.Fatalf("read public key file: %v", err)
	}
	public, err := signing.ParsePublicKey(string(stored))
	if err != nil {
		t.Fatalf("ParsePublicKey(file) error = %v", err)
	}
	if !public.Equal(first.Public()) {
		t.Errorf("public key file does not match the private key")
	}
}
