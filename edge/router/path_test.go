package router

import (
	"errors"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		name        string
		escaped     string
		wantDecoded string
		wantEscaped string
	}{
		{name: "clean", escaped: "/api/users", wantDecoded: "/api/users", wantEscaped: "/api/users"},
		{name: "root", escaped: "/", wantDecoded: "/", wantEscaped: "/"},
		{name: "asterisk", escaped: "*", wantDecoded: "*", wantEscaped: "*"},
		{name: "trailing slash kept", escaped: "/a/b/", wantDecoded: "/a/b/", wantEscaped: "/a/b/"},
		{name: "double slashes", escaped: "//a//b", wantDecoded: "/a/b", wantEscaped: "/a/b"},
		{name: "dot segments", escaped: "/a/./b/../c", wantDecoded: "/a/c", wantEscaped: "/a/c"},
		{name: "dot dot above root", escaped: "/../../a", wantDecoded: "/a", wantEscaped: "/a"},
		{name: "encoded dot dot", escaped: "/api/%2e%2e/admin", wantDecoded: "/admin", wantEscaped: "/admin"},
		{name: "mixed encoded dot dot", escaped: "/api/.%2E/admin", wantDecoded: "/admin", wantEscaped: "/admin"},
		{name: "dot dot last", escaped: "/a/b/..", wantDecoded: "/a", wantEscaped: "/a"},
		{name: "dot dot to root", escaped: "/a/..", wantDecoded: "/", wantEscaped: "/"},
		{name: "lower-case escape", escaped: "/caf%c3%a9", wantDecoded: "/café", wantEscaped: "/caf%C3%A9"},
		{name: "unreserved escape decoded", escaped: "/%7euser/%41", wantDecoded: "/~user/A", wantEscaped: "/~user/A"},
		{name: "reserved escape kept", escaped: "/a%3Bb/c%3fd", wantDecoded: "/a;b/c?d", wantEscaped: "/a%3Bb/c%3Fd"},
		{name: "percent kept", escaped: "/100%25", wantDecoded: "/100%", wantEscaped: "/100%25"},
		{name: "space escaped", escaped: "/a b", wantDecoded: "/a b", wantEscaped: "/a%20b"},
		{name: "raw utf-8 escaped", escaped: "/café", wantDecoded: "/café", wantEscaped: "/caf%C3%A9"},
		{name: "sub-delimiters kept", escaped: "/a;b=c,d", wantDecoded: "/a;b=c,d", wantEscaped: "/a;b=c,d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanPath(tt.escaped)
			if err != nil {
				t.Fatalf("CleanPath(%q) failed: %v", tt.escaped, err)
			}
			if got.Decoded != tt.wantDecoded {
				t.Errorf("CleanPath(%q).Decoded = %q, want %q", tt.escaped, got.Decoded, tt.wantDecoded)
			}
			if got.Escaped != tt.wantEscaped {
				t.Errorf("CleanPath(%q).Escaped = %q, want %q", tt.escaped, got.Escaped, tt.wantEscaped)
			}
		})
	}
}

func TestCleanPathRejects(t *testing.T) {
	tests := []struct {
		name    string
		escaped string
	}{
		{name: "encoded slash", escaped: "/public%2F..%2Fadmin"},
		{name: "encoded slash lower-case", escaped: "/a%2fb"},
		{name: "encoded backslash", escaped: "/a%5C..%5Cadmin"},
		{name: "backslash", escaped: "/a\\b"},
		{name: "encoded nul", escaped: "/a%00b"},
		{name: "encoded newline", escaped: "/a%0Ab"},
		{name: "raw tab", escaped: "/a\tb"},
		{name: "truncated escape", escaped: "/a%2"},
		{name: "invalid escape", escaped: "/a%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanPath(tt.escaped)
			if err == nil {
				t.Fatalf("CleanPath(%q) = %+v, want an error", tt.escaped, got)
			}
			if !errors.Is(err, ErrInvalidPath) {
				t.Errorf("CleanPath(%q) error %v does not wrap ErrInvalidPath", tt.escaped, err)
			}
		})
	}
}
