package netguard

import (
	"errors"
	"net/netip"
	"slices"
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

func TestClassOfRangesThatCarryOrDocumentAddresses(t *testing.T) {
	for _, address := range []string{
		"192.0.2.1", "198.51.100.1", "203.0.113.10", "192.88.99.1", "2001:db8::1",
		"2001::1", "::7f00:1", "::ffff:0:7f00:1", "100::1",
	} {
		if got := Class(netip.MustParseAddr(address)); got != "reserved" {
			t.Errorf("Class(%s) = %q, want reserved", address, got)
		}
	}
	for _, address := range []string{"93.184.215.14", "2606:4700::1111", "::1", "127.0.0.1"} {
		if got := Class(netip.MustParseAddr(address)); got == "reserved" {
			t.Errorf("Class(%s) = reserved, want another class", address)
		}
	}
}

func TestGuardBlocksLocalAddresses(t *testing.T) {
	local := netip.MustParseAddr("93.184.215.14")
	guard := &Guard{Local: []netip.Addr{local}, Subject: "upstreams", Setting: "S"}

	var blocked *BlockedError
	if err := guard.Check("tcp", "93.184.215.14:9080"); !errors.As(err, &blocked) || blocked.Class != "local" {
		t.Errorf("Check of a local address = %v, want a *BlockedError of class local", err)
	}
	if err := guard.Check("tcp", "93.184.215.15:9080"); err != nil {
		t.Errorf("Check of another public address = %v, want nil", err)
	}

	guard.Networks = []netip.Prefix{netip.MustParsePrefix("93.184.215.14/32")}
	if err := guard.Check("tcp", "93.184.215.14:9080"); err != nil {
		t.Errorf("Check of an allowed local address = %v, want nil", err)
	}
}

func TestLocalAddressesIncludeLoopback(t *testing.T) {
	local, err := LocalAddresses()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(local, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("LocalAddresses() = %v, want 127.0.0.1 among them", local)
	}
}

func TestMaskedUnmapsIPv4Prefixes(t *testing.T) {
	masked := Masked([]netip.Prefix{netip.MustParsePrefix("::ffff:127.0.0.5/104"), netip.MustParsePrefix("10.1.2.3/8")})
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	if !slices.Equal(masked, want) {
		t.Errorf("Masked = %v, want %v", masked, want)
	}
	guard := &Guard{Networks: masked}
	if err := guard.Check("tcp", "[::ffff:127.0.0.1]:80"); err != nil {
		t.Errorf("Check of an address in an IPv4-mapped allowed prefix = %v, want nil", err)
	}
}
