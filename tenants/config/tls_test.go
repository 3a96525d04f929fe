package config

import (
	"strings"
	"testing"
)

func TestNormalizeHostname(t *testing.T) {
	tests := []struct {
		desc  string
		input string
		want  string
		err   string
	}{
		{"lowercased", "API.Example.COM", "api.example.com", ""},
		{"trailing dot stripped", "api.example.com.", "api.example.com", ""},
		{"punycode", "xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"max length", strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "a", ""},
		{"too long", strings.Repeat("a.", 126) + "ab", "", "above the limit of 253"},
		{"long label", strings.Repeat("a", 64) + ".example", "", "label of 64"},
		{"IPv4", "10.0.0.1", "", "IP address"},
		{"IPv6", "::1", "", "IP address"},
		{"wildcard", "*.example.com", "", "wildcard"},
		{"unicode", "bücher.example", "", "contains"},
		{"space", "api example.com", "", "contains"},
		{"single label", "intranet", "", "one label"},
		{"trailing hyphen", "api-.example.com", "", "hyphen"},
		{"double dot", "api..example.com", "", "empty label"},
		{"empty", "", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := NormalizeHostname("hostname", tt.input)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Errorf("NormalizeHostname(%q) = %q, %v; want %q", tt.input, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeHostname(%q) error = %v, want one containing %q", tt.input, err, tt.err)
			}
		})
	}
}

func TestHSTSHeaderAndValidate(t *testing.T) {
	full := HSTS{MaxAge: MaxHSTSMaxAge, IncludeSubdomains: true, Preload: true}
	if got := full.Header(); got != "max-age=63072000; includeSubDomains; preload" {
		t.Errorf("Header() = %q", got)
	}
	if got := (&HSTS{MaxAge: 300}).Header(); got != "max-age=300" {
		t.Errorf("Header() = %q, want max-age=300", got)
	}

	tests := []struct {
		desc  string
		hsts  HSTS
		field string
	}{
		{"negative", HSTS{MaxAge: -1}, "hsts.max_age"},
		{"above two years", HSTS{MaxAge: MaxHSTSMaxAge + 1}, "hsts.max_age"},
		{"preload without subdomains", HSTS{MaxAge: MaxHSTSMaxAge, Preload: true}, "hsts.preload"},
		{"preload with short max-age", HSTS{MaxAge: 3600, IncludeSubdomains: true, Preload: true}, "hsts.preload"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := tt.hsts.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Errorf("Validate() error = %v, want one on %s", err, tt.field)
			}
		})
	}
	if err := full.Validate(); err != nil {
		t.Errorf("Validate() of a preload policy = %v, want nil", err)
	}

	route := Route{Name: "r", Paths: []string{"/"}, Upstream: "u", HSTS: &HSTS{MaxAge: -5}}
	if err := route.Validate(); err == nil || !strings.Contains(err.Error(), "hsts.max_age") {
		t.Errorf("Route.Validate() with a bad HSTS = %v, want the hsts.max_age error", err)
	}
}
