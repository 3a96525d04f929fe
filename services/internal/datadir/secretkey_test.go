package datadir

import (
	"bytes"
	"os"
	"testing"

	"portcullis.dev/portal/secrets"
)

func TestSecretKeyGeneratedOnce(t *testing.T) {
	dir, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}

	first, generated, err := dir.SecretKey("")
	if err != nil || !generated {
		t.Fatalf("first SecretKey() = generated %v, error %v; want generated, nil", generated, err)
	}
	second, generated, err := dir.SecretKey("")
	if err != nil || generated {
		t.Fatalf("second SecretKey() = generated %v, error %v; want read, nil", generated, err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("second SecretKey() differs from the first")
	}

	info, err := os.Stat(dir.File(SecretKeyFile))
	if err != nil {
		t.Fatalf("stat secret key: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("secret key mode = %o, want 600", mode)
	}
}

func TestSecretKeyFromEnvironment(t *testing.T) {
	dir, _ := Open(t.TempDir())
	key, _ := secrets.NewKey()

	tests := []struct {
		name    string
		env     string
		wantErr bool
	}{
		{"valid", secrets.EncodeKey(key), false},
		{"short", "AAAA", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, generated, err := dir.SecretKey(tt.env)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SecretKey() error = %v, want error %v", err, tt.wantErr)
			}
			if generated {
				t.Errorf("SecretKey() generated a key, want the environment's")
			}
			if !tt.wantErr && !bytes.Equal(got, key) {
				t.Errorf("SecretKey() = other key, want the environment's")
			}
		})
	}
	if _, err := os.Stat(dir.File(SecretKeyFile)); !os.IsNotExist(err) {
		t.Errorf("stat secret key file error = %v, want not exist", err)
	}
}
