package secrets

import (
	"strings"
	"testing"
)

func TestBoxRoundTrip(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatalf("NewKey() error = %v", err)
	}
	box, err := NewBox(key)
	if err != nil {
		t.Fatalf("NewBox() error = %v", err)
	}

	sealed, err := box.Seal("s3cret-value", "cred_1")
	if err != nil {
		t.Fatalf("Seal() error = %v", err)
	}
	if strings.Contains(sealed, "s3cret-value") {
		t.Errorf("Seal() = %q contains the plaintext", sealed)
	}

	got, err := box.Open(sealed, "cred_1")
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	if got != "s3cret-value" {
		t.Errorf("Open() = %q, want %q", got, "s3cret-value")
	}
}

func TestBoxOpenRejects(t *testing.T) {
	key, _ := NewKey()
	box, _ := NewBox(key)
	otherKey, _ := NewKey()
	other, _ := NewBox(otherKey)
	sealed, err := box.Seal("value", "cred_1")
	if err != nil {
		t.Fatalf("Seal() error = %v", err)
	}

	tests := []struct {
		name       string
		box        *Box
		sealed     string
		associated string
	}{
		{"other associated data", box, sealed, "cred_2"},
		{"other key", other, sealed, "cred_1"},
		{"unknown format", box, "v0:abc", "cred_1"},
		{"truncated", box, "v1:AAAA", "cred_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.box.Open(tt.sealed, tt.associated); err == nil {
				t.Errorf("Open() error = nil, want an error")
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	key, _ := NewKey()
	tests := []struct {
		name    string
		encoded string
		wantErr bool
	}{
		{"padded", EncodeKey(key), false},
		{"unpadded", strings.TrimRight(EncodeKey(key), "="), false},
		{"not base64", "!!!", true},
		{"too short", "AAAA", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKey(tt.encoded)
			if (err != nil) != tt.wantErr {
				t.Errorf("ParseKey(%q) error = %v, want error %v", tt.encoded, err, tt.wantErr)
			}
		})
	}
}
