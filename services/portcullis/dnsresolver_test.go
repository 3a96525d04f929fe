package main

import (
	"io"
	"testing"
)

func TestServeFlagsDNSResolver(t *testing.T) {
	cfg, _, _, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DNSResolver != "" {
		t.Errorf("default DNS resolver = %q, want empty for the system resolver", cfg.DNSResolver)
	}

	t.Setenv("PORTCULLIS_DNS_RESOLVER", "127.0.0.1:5353")
	if cfg, _, _, err = parseServeFlags(nil, io.Discard); err != nil || cfg.DNSResolver != "127.0.0.1:5353" {
		t.Errorf("DNS resolver from the environment = %q, %v; want 127.0.0.1:5353", cfg.DNSResolver, err)
	}
	if cfg, _, _, err = parseServeFlags([]string{"--dns-resolver", "10.0.0.53:53"}, io.Discard); err != nil || cfg.DNSResolver != "10.0.0.53:53" {
		t.Errorf("DNS resolver from the flag = %q, %v; want 10.0.0.53:53", cfg.DNSResolver, err)
	}
}
