package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

func TestInvalidJSONNamesPosition(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"unquoted key", "{x", `not valid JSON: unexpected 'x' at line 1, column 2`},
		{"missing value", "{\"a\": 1,\n \"b\": }", `not valid JSON: unexpected '}' at line 2, column 7`},
		{"trailing comma", "[1,\n 2,\n]", `not valid JSON: unexpected ']' at line 3, column 1`},
		{"column counts characters", "{\"名前\": x}", `not valid JSON: unexpected 'x' at line 1, column 8`},
		{"tab in string", "{\"a\": \"x\ty\"}", `not valid JSON: unexpected '\t' at line 1, column 9`},
		{"truncated object", "{\"a\": 1", "not valid JSON: the text ends at line 1, column 8 before the value is complete"},
		{"truncated literal", "tru", "not valid JSON: the text ends at line 1, column 4 before the value is complete"},
		{"truncated with trailing space", "[1,\n  ", "not valid JSON: the text ends at line 1, column 4 before the value is complete"},
		{"two values", "{}\n  {}", "not valid JSON: more text follows the value at line 2, column 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var value any
			parseErr := json.Unmarshal([]byte(tt.text), &value)
			if parseErr == nil {
				t.Fatalf("json.Unmarshal(%q) succeeded, want an error", tt.text)
			}

			var field *config.FieldError
			if !errors.As(InvalidJSON("config", []byte(tt.text), parseErr), &field) {
				t.Fatal("InvalidJSON() did not return a *config.FieldError")
			}
			if field.Field != "config" {
				t.Errorf("field = %q, want config", field.Field)
			}
			if !strings.HasPrefix(field.Message, tt.want) {
				t.Errorf("message = %q, want it to start with %q", field.Message, tt.want)
			}
			if strings.Contains(field.Message, "invalid character") || strings.Contains(field.Message, "unexpected end of JSON input") {
				t.Errorf("message = %q quotes encoding/json", field.Message)
			}
		})
	}
}

func TestInvalidJSONFallsBackToParserText(t *testing.T) {
	parseErr := errors.New("parser failure")

	var field *config.FieldError
	if !errors.As(InvalidJSON("config", []byte(`{"a": 1}`), parseErr), &field) {
		t.Fatal("InvalidJSON() did not return a *config.FieldError")
	}
	if want := "not valid JSON: parser failure"; field.Message != want {
		t.Errorf("message of text without a syntax problem = %q, want %q", field.Message, want)
	}
}
