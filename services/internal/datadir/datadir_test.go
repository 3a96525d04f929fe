package datadir

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
)

func TestAdminTokenGeneratedOnce(t *testing.T) {
	dir, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	first, generated, err := dir.AdminToken("")
	if err != nil || !generated {
		t.Fatalf("first call: got generated=%v err=%v, want a new token", generated, err)
	}
	info, err := os.Stat(dir.File(AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("token file mode: got %o, want 600", mode)
	}

	second, generated, err := dir.AdminToken("")
	if err != nil || generated {
		t.Fatalf("second call: got generated=%v err=%v, want the stored token", generated, err)
	}
	if second != first {
		t.Errorf("second call returned another token")
	}
}

func TestAdminTokenFromEnvironment(t *testing.T) {
	dir, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	token, generated, err := dir.AdminToken("a-long-enough-operator-token")
	if err != nil || generated || token != "a-long-enough-operator-token" {
		t.Errorf("got %q generated=%v err=%v, want the environment token", token, generated, err)
	}
	if _, err := os.Stat(dir.File(AdminTokenFile)); !os.IsNotExist(err) {
		t.Errorf("token file exists after using the environment token: %v", err)
	}

	_, _, err = dir.AdminToken("short")
	if err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("short token: got %v, want an error naming the minimum length", err)
	}
}

func TestDevCertificateCoversTenantHosts(t *testing.T) {
	dir, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	cert, err := dir.DevCertificate("localhost")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "acme.localhost", "127.0.0.1"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("certificate does not cover %q: %v", host, err)
		}
	}

	again, err := dir.DevCertificate("localhost")
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Certificate[0]) != string(cert.Certificate[0]) {
		t.Errorf("second load generated a new certificate, want the stored one")
	}
}
