package config

import (
	"strings"
	"testing"
)

func TestConsumerValidate(t *testing.T) {
	tests := []struct {
		name      string
		consumer  Consumer
		wantField string
	}{
		{"valid", Consumer{Name: "mobile-app", Description: "iOS app", Tags: []string{"prod"}}, ""},
		{"nil tags", Consumer{Name: "cli"}, ""},
		{"bad name", Consumer{Name: "-x"}, "name"},
		{"control character", Consumer{Name: "a", Description: "a\x00b"}, "description"},
		{"long description", Consumer{Name: "a", Description: strings.Repeat("x", MaxDescription+1)}, "description"},
		{"bad tag", Consumer{Name: "a", Tags: []string{"ok", "no spaces"}}, "tags[1]"},
		{"repeated tag", Consumer{Name: "a", Tags: []string{"ok", "ok"}}, "tags[1]"},
		{"too many tags", Consumer{Name: "a", Tags: make([]string, MaxTags+1)}, "tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.consumer.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Errorf("Validate() error = %v, want nil", err)
				}
				return
			}
			fieldErr, ok := err.(*FieldError)
			if !ok {
				t.Fatalf("Validate() error = %v, want *FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("Validate() field = %q, want %q", fieldErr.Field, tt.wantField)
			}
		})
	}
}
