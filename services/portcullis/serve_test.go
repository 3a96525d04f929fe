package main

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestServeFlagsDefaults(t *testing.T) {
	cfg, _, level, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	checks := []struct{ name, got, want string }{
		{"role", cfg.Role, "all"},
		{"portal address", cfg.PortalAddr, "127.0.0.1:9080"},
		{"HTTP address", cfg.HTTPAddr, ":8080"},
		{"HTTPS address", cfg.HTTPSAddr, ":8443"},
		{"admin address", cfg.AdminAddr, "127.0.0.1:9180"},
		{"data folder", cfg.DataDir, "./data"},
		{"base domain", cfg.BaseDomain, "localhost"},
		{"log level", level, "info"},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("%s: got %q, want %q", check.name, check.got, check.want)
		}
	}
}

func TestServeFlagsEnvironmentAndOverride(t *testing.T) {
	t.Setenv("PORTCULLIS_HTTP_ADDR", "127.0.0.1:18080")
	t.Setenv("PORTCULLIS_DATA_DIR", "/tmp/from-env")
	t.Setenv("PORTCULLIS_DEMO", "true")
	t.Setenv("PORTCULLIS_ADMIN_TOKEN", "token-from-the-environment")

	cfg, _, _, err := parseServeFlags([]string{"--data-dir", "/tmp/from-flag"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	if cfg.HTTPAddr != "127.0.0.1:18080" {
		t.Errorf("HTTP address: got %q, want the environment value", cfg.HTTPAddr)
	}
	if cfg.DataDir != "/tmp/from-flag" {
		t.Errorf("data folder: got %q, want the flag to win over the environment", cfg.DataDir)
	}
	if !cfg.Demo {
		t.Errorf("demo: got false, want PORTCULLIS_DEMO=true to turn it on")
	}
	if cfg.AdminToken != "token-from-the-environment" {
		t.Errorf("admin token not taken from PORTCULLIS_ADMIN_TOKEN")
	}
}

func TestServeFlagsRejectArguments(t *testing.T) {
	if _, _, _, err := parseServeFlags([]string{"extra"}, io.Discard); err == nil {
		t.Errorf("got nil error for a stray argument, want one naming it")
	}
	if _, _, _, err := parseServeFlags([]string{"--no-such-flag"}, io.Discard); err == nil {
		t.Errorf("got nil error for an unknown flag")
	}
}

func TestServeFlagsRejectBadSettings(t *testing.T) {
	tests := []struct {
		desc string
		env  map[string]string
		args []string
	}{
		{"demo variable not a boolean", map[string]string{"PORTCULLIS_DEMO": "maybe"}, nil},
		{"unknown log level", nil, []string{"--log-level", "verbose"}},
		{"base domain with a space", nil, []string{"--base-domain", "Bad Domain"}},
		{"base domain upper case", nil, []string{"--base-domain", "Example.com"}},
		{"cache bytes variable not a number", map[string]string{"PORTCULLIS_CACHE_BYTES": "abc"}, nil},
		{"plugin workers variable not a number", map[string]string{"PORTCULLIS_PLUGIN_WORKERS": "many"}, nil},
		{"negative cache bytes", nil, []string{"--cache-bytes", "-5"}},
		{"negative plugin workers", nil, []string{"--plugin-workers", "-1"}},
		{"unknown feed mode", nil, []string{"--feed-mode", "bogus"}},
		{"unknown feed mode variable", map[string]string{"PORTCULLIS_FEED_MODE": "push"}, nil},
		{"database of another scheme", nil, []string{"--db", "mysql://x@127.0.0.1/op"}},
		{"unknown role", nil, []string{"--role", "foo"}},
		{"redis URL of another scheme", nil, []string{"--redis", "http://127.0.0.1:6379"}},
		{"unknown role variable", map[string]string{"PORTCULLIS_ROLE": "edgy"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			for name, value := range tt.env {
				t.Setenv(name, value)
			}
			if _, _, _, err := parseServeFlags(tt.args, io.Discard); err == nil {
				t.Errorf("got nil error, want one naming the bad setting")
			}
		})
	}
}

func TestServeFlagsErrorsNameValueAndFix(t *testing.T) {
	t.Setenv("PORTCULLIS_CACHE_BYTES", "abc")
	_, _, _, err := parseServeFlags([]string{"--feed-mode", "bogus", "--db", "mysql://user:secret@127.0.0.1/op"}, io.Discard)
	if err == nil {
		t.Fatal("got nil error for three bad settings")
	}
	for _, want := range []string{`PORTCULLIS_CACHE_BYTES is "abc": use a whole number`, `feed mode "bogus" is invalid: use stream or poll`, `the scheme "mysql"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the database password", err)
	}
}

func TestServeFlagsPluginOutboundAllow(t *testing.T) {
	cfg, edgeCfg, _, err := parseServeFlags([]string{"--plugin-outbound-allow", "10.0.0.0/8, 127.0.0.1/32,fd00::/8"}, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := "[10.0.0.0/8 127.0.0.1/32 fd00::/8]"
	if got := fmt.Sprint(cfg.PluginOutboundAllow); got != want {
		t.Errorf("all-in-one PluginOutboundAllow = %s, want %s", got, want)
	}
	if got := fmt.Sprint(edgeCfg.PluginOutboundAllow); got != want {
		t.Errorf("edge PluginOutboundAllow = %s, want %s", got, want)
	}

	t.Setenv("PORTCULLIS_PLUGIN_OUTBOUND_ALLOW", "192.168.0.0/16")
	cfg, _, _, err = parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatalf("parse with the environment variable: %v", err)
	}
	if got := fmt.Sprint(cfg.PluginOutboundAllow); got != "[192.168.0.0/16]" {
		t.Errorf("PluginOutboundAllow from the environment = %s, want [192.168.0.0/16]", got)
	}

	_, _, _, err = parseServeFlags([]string{"--plugin-outbound-allow", "10.0.0.1"}, io.Discard)
	if err == nil {
		t.Fatal("parse of a bare address succeeded, want a CIDR error")
	}
	for _, want := range []string{`plugin outbound network "10.0.0.1" is an address, not a CIDR: write 10.0.0.1/32`, "--plugin-outbound-allow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("parse of a bare address: error = %q, want it to contain %q", err, want)
		}
	}
}

func TestServeFlagsTrustedProxies(t *testing.T) {
	cfg, edgeCfg, _, err := parseServeFlags([]string{"--trusted-proxies", "10.0.0.0/8, 2001:db8::/32"}, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := "[10.0.0.0/8 2001:db8::/32]"
	if got := fmt.Sprint(cfg.TrustedProxies); got != want {
		t.Errorf("all-in-one TrustedProxies = %s, want %s", got, want)
	}
	if got := fmt.Sprint(edgeCfg.TrustedProxies); got != want {
		t.Errorf("edge TrustedProxies = %s, want %s", got, want)
	}
	if _, _, _, err := parseServeFlags([]string{"--trusted-proxies", "10.0.0.1"}, io.Discard); err == nil {
		t.Error("parse of a bare address succeeded, want a CIDR error")
	}
	_, _, _, err = parseServeFlags([]string{"--trusted-proxies", "10.0.0.0/33"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `trusted proxy "10.0.0.0/33" is not a CIDR such as 10.0.0.0/8`) {
		t.Errorf("parse of an invalid CIDR: error = %v, want it to name the entry and the form", err)
	}
}

func TestServeFlagsUpstreamAllow(t *testing.T) {
	cfg, edgeCfg, _, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if cfg.UpstreamGuard == nil || edgeCfg.UpstreamGuard == nil || len(cfg.UpstreamGuard.Networks) != 0 {
		t.Fatalf("default upstream guards = %+v and %+v, want guards that allow no network", cfg.UpstreamGuard, edgeCfg.UpstreamGuard)
	}

	if !slices.Contains(cfg.UpstreamGuard.Local, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("upstream guard's local addresses = %v, want this machine's, 127.0.0.1 among them", cfg.UpstreamGuard.Local)
	}

	cfg, _, _, err = parseServeFlags([]string{"--upstream-allow", "10.1.2.3/8,127.0.0.1/32, 127.0.0.1:9081,[::1]:443"}, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got := fmt.Sprint(cfg.UpstreamGuard.Networks); got != "[10.0.0.0/8 127.0.0.1/32]" {
		t.Errorf("upstream networks = %s, want [10.0.0.0/8 127.0.0.1/32]", got)
	}
	if got := fmt.Sprint(cfg.UpstreamGuard.Addresses); got != "[127.0.0.1:9081 [::1]:443]" {
		t.Errorf("upstream addresses = %s, want [127.0.0.1:9081 [::1]:443]", got)
	}

	for value, want := range map[string]string{
		"10.0.0.1":       "127.0.0.1:9081",
		"fe80::1%lo/64":  "IPv6 zone",
		"not-a-network":  "is not a CIDR",
		"10.0.0.0/8;x/1": "is not a CIDR",
	} {
		_, _, _, err = parseServeFlags([]string{"--upstream-allow", value}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--upstream-allow") {
			t.Errorf("parse of --upstream-allow %q: %v, want an error that contains %q and names the flag", value, err, want)
		}
	}
}
