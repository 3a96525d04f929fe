package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestGuardCheck(t *testing.T) {
	guard := &Guard{
		Networks:  Masked([]netip.Prefix{netip.MustParsePrefix("10.1.2.3/16")}),
		Addresses: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9081")},
		Subject:   "upstreams",
		Setting:   "--upstream-allow",
	}
	tests := []struct {
		address   string
		wantClass string
	}{
		{address: "93.184.215.14:443"},
		{address: "[2606:4700::1111]:443"},
		{address: "10.1.200.1:80"},
		{address: "127.0.0.1:9081"},
		{address: "[::ffff:127.0.0.1]:9081"},
		{address: "127.0.0.1:9180", wantClass: "loopback"},
		{address: "127.0.0.2:9081", wantClass: "loopback"},
		{address: "10.2.0.1:80", wantClass: "private"},
		{address: "169.254.169.254:80", wantClass: "link-local"},
		{address: "0.0.0.0:9180", wantClass: "unspecified"},
	}
	for _, tt := range tests {
		err := guard.Check("tcp", tt.address)
		if tt.wantClass == "" {
			if err != nil {
				t.Errorf("Check(%s) = %v, want nil", tt.address, err)
			}
			continue
		}

		var blocked *BlockedError
		if !errors.As(err, &blocked) {
			t.Errorf("Check(%s) = %v, want a *BlockedError", tt.address, err)
			continue
		}
		if blocked.Class != tt.wantClass {
			t.Errorf("Check(%s) class = %q, want %q", tt.address, blocked.Class, tt.wantClass)
		}
		for _, part := range []string{tt.address, "which upstreams may not reach", "--upstream-allow"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("Check(%s) error %q does not contain %q", tt.address, err, part)
			}
		}
	}
}

func TestBlockedErrorArticle(t *testing.T) {
	err := (&Guard{Subject: "plugins", Setting: "S"}).Check("tcp", "0.0.0.0:80")
	if err == nil || !strings.Contains(err.Error(), "is an unspecified address") {
		t.Errorf("error = %v, want one that says \"is an unspecified address\"", err)
	}
}

func TestGuardCheckRejectsHostName(t *testing.T) {
	err := (&Guard{}).Check("tcp", "example.test:80")
	if err == nil || !strings.Contains(err.Error(), "is not an IP address and port") {
		t.Errorf("error = %v, want one that says the address is not an IP address and port", err)
	}
}
