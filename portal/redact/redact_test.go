package redact

import (
	"encoding/json"
	"testing"
)

func TestIsSecretKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"api_key", true},
		{"ClientSecret", true},
		{"PASSWORD", true},
		{"access_token", true},
		{"keyring", true},
		{"name", false},
		{"url", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSecretKey(tt.key); got != tt.want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestJSONRedactsAtAnyDepth(t *testing.T) {
	input := `{"name":"billing","api_key":"k1","nested":{"Password":{"a":1},"list":[{"token":"t"},{"plain":"p"}]},"count":12345678901234567890}`
	want := `{"api_key":"[REDACTED]","count":12345678901234567890,"name":"billing","nested":{"Password":"[REDACTED]","list":[{"token":"[REDACTED]"},{"plain":"p"}]}}`

	if got := string(JSON([]byte(input))); got != want {
		t.Errorf("JSON(%s)\n got %s\nwant %s", input, got, want)
	}
}

func TestJSONNotADocument(t *testing.T) {
	for _, input := range []string{"", "not json", "{"} {
		if got := JSON([]byte(input)); got != nil {
			t.Errorf("JSON(%q) = %s, want nil", input, got)
		}
	}
}

func TestValueLeavesOtherTypes(t *testing.T) {
	for _, input := range []string{`"token"`, `42`, `true`, `null`} {
		var value any
		if err := json.Unmarshal([]byte(input), &value); err != nil {
			t.Fatalf("decode %s: %v", input, err)
		}
		encoded, err := json.Marshal(Value(value))
		if err != nil {
			t.Fatalf("encode %s: %v", input, err)
		}
		if string(encoded) != input {
			t.Errorf("Value(%s) = %s, want it unchanged", input, encoded)
		}
	}
}
