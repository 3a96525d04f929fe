package config

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidateRejectsBadFields(t *testing.T) {
	tests := []struct {
		desc      string
		validate  func() error
		wantField string
	}{
		{"tenant slug upper case", (&Tenant{Slug: "Acme", Name: "Acme"}).Validate, "slug"},
		{"tenant slug trailing hyphen", (&Tenant{Slug: "acme-", Name: "Acme"}).Validate, "slug"},
		{"tenant name blank", (&Tenant{Slug: "acme", Name: "  "}).Validate, "name"},
		{"upstream without targets", (&Upstream{Name: "backend"}).Validate, "targets"},
		{"upstream target without scheme", (&Upstream{Name: "backend", Targets: []Target{{URL: "127.0.0.1:9000"}}}).Validate, "targets[0].url"},
		{"upstream target negative weight", (&Upstream{Name: "backend", Targets: []Target{{URL: "http://127.0.0.1:9000", Weight: -1}}}).Validate, "targets[0].weight"},
		{"route path without slash", (&Route{Name: "all", Paths: []string{"api"}, Upstream: "backend"}).Validate, "paths[0]"},
		{"route lower-case method", (&Route{Name: "all", Paths: []string{"/"}, Methods: []string{"get"}, Upstream: "backend"}).Validate, "methods[0]"},
		{"route percent-encoded path", (&Route{Name: "all", Paths: []string{"/a%2Fb"}, Upstream: "backend"}).Validate, "paths[0]"},
		{"route dot segment", (&Route{Name: "all", Paths: []string{"/x/../y"}, Upstream: "backend"}).Validate, "paths[0]"},
		{"route empty segment", (&Route{Name: "all", Paths: []string{"//x"}, Upstream: "backend"}).Validate, "paths[0]"},
		{"route duplicate path", (&Route{Name: "all", Paths: []string{"/x", "/x"}, Upstream: "backend"}).Validate, "paths[1]"},
		{"route duplicate method", (&Route{Name: "all", Paths: []string{"/"}, Methods: []string{"GET", "GET"}, Upstream: "backend"}).Validate, "methods[1]"},
		{"upstream target port out of range", (&Upstream{Name: "backend", Targets: []Target{{URL: "http://127.0.0.1:99999"}}}).Validate, "targets[0].url"},
		{"tenant name with NUL", (&Tenant{Slug: "acme", Name: "a\x00b"}).Validate, "name"},
		{"tenant name invalid UTF-8", (&Tenant{Slug: "acme", Name: "a\xffb"}).Validate, "name"},
		{"route without upstream", (&Route{Name: "all", Paths: []string{"/"}}).Validate, "upstream"},
		{"binding bad version", (&Binding{Plugin: "hello", Version: "1.0"}).Validate, "version"},
		{"binding config array", (&Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`[1]`)}).Validate, "config"},
		{"binding timeout above max", (&Binding{Plugin: "hello", Version: "1.0.0", TimeoutMS: MaxTimeoutMS + 1}).Validate, "timeout_ms"},
		{"binding negative timeout", (&Binding{Plugin: "hello", Version: "1.0.0", TimeoutMS: -1}).Validate, "timeout_ms"},
		{"binding unknown on_error", (&Binding{Plugin: "hello", Version: "1.0.0", OnError: "ignore"}).Validate, "on_error"},
		{"binding priority out of range", (&Binding{Plugin: "hello", Version: "1.0.0", Priority: new(MaxPriority + 1)}).Validate, "priority"},
		{"binding allow_hosts with scheme", (&Binding{Plugin: "hello", Version: "1.0.0", AllowHosts: []string{"http://a.example"}}).Validate, "allow_hosts[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := tt.validate()

			var fieldErr *FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("got error %v, want a *FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("got field %q, want %q", fieldErr.Field, tt.wantField)
			}
		})
	}
}

func TestValidateAcceptsGoodResources(t *testing.T) {
	tests := []struct {
		desc     string
		validate func() error
	}{
		{"tenant", (&Tenant{Slug: "acme-2", Name: "Acme"}).Validate},
		{"upstream", (&Upstream{Name: "backend", Targets: []Target{{URL: "https://10.0.0.1:8443/base", Weight: 3}}}).Validate},
		{"tenant name of 150 accented letters", (&Tenant{Slug: "acme", Name: strings.Repeat("é", 150)}).Validate},
		{"route", (&Route{Name: "all", Paths: []string{"/", "/api/"}, Methods: []string{"GET", "POST"}, Upstream: "backend"}).Validate},
		{"tenant-wide binding", (&Binding{Plugin: "hello", Version: "1.0.0-rc.1", Config: json.RawMessage(`{"a":1}`)}).Validate},
		{"binding with null config", (&Binding{Plugin: "hello", Version: "2.0.0", Route: "all", Config: json.RawMessage(`null`)}).Validate},
		{"binding with run fields", (&Binding{Plugin: "hello", Version: "2.0.0", Priority: new(-5), TimeoutMS: MaxTimeoutMS, OnError: OnErrorOpen, Enabled: new(false), AllowHosts: []string{"127.0.0.1:8080", "api.example.com"}}).Validate},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if err := tt.validate(); err != nil {
				t.Errorf("got error %v, want none", err)
			}
		})
	}
}

func TestFieldErrorNamesValueAndFix(t *testing.T) {
	err := (&Tenant{Slug: "Bad Slug", Name: "x"}).Validate()

	if err == nil || !strings.Contains(err.Error(), `"Bad Slug"`) {
		t.Fatalf("got %v, want the message to quote the bad value", err)
	}
	if !strings.Contains(err.Error(), "lowercase") {
		t.Errorf("got %v, want the message to say how to fix it", err)
	}
}

func TestBindingAllowHosts(t *testing.T) {
	for host, valid := range map[string]bool{
		"api.example.com":        true,
		"203.0.113.7:8443":       true,
		"2001:db8::7":            true,
		"[2001:db8::7]":          true,
		"[2001:db8::7]:8443":     true,
		"::1":                    true,
		"[::1]:9180":             true,
		"http://a.example":       false,
		"2001:db8::7:8443:x":     false,
		"[2001:db8::7":           false,
		"2001:db8::7]":           false,
		"[203.0.113.7]:80":       false,
		"[fe80::1%eth0]:80":      false,
		"fe80::1%eth0":           false,
		"[2001:db8::7]:99999999": false,
	} {
		err := (&Binding{Plugin: "hello", Version: "1.0.0", AllowHosts: []string{host}}).Validate()
		if valid && err != nil {
			t.Errorf("allow_hosts %q: %v, want it valid", host, err)
		}
		if !valid && err == nil {
			t.Errorf("allow_hosts %q is valid, want an error", host)
		}
	}
}
