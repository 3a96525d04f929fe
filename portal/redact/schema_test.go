package redact

import (
	"encoding/json"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/catalog"
)

func TestBySchemaRules(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		config string
		want   string
	}{
		{
			name:   "writeOnly field with a harmless name",
			schema: `{"type":"object","properties":{"pin":{"type":"string","writeOnly":true},"region":{"type":"string"}}}`,
			config: `{"pin":"4711","region":"eu"}`,
			want:   `{"pin":"[REDACTED]","region":"eu"}`,
		},
		{
			name:   "writeOnly number",
			schema: `{"type":"object","properties":{"port":{"type":"integer","writeOnly":true}}}`,
			config: `{"port":8443}`,
			want:   `{"port":"[REDACTED]"}`,
		},
		{
			name:   "enum value with a secret-looking name",
			schema: `{"type":"object","properties":{"token_kind":{"enum":["bearer","mac"]}}}`,
			config: `{"token_kind":"bearer"}`,
			want:   `{"token_kind":"bearer"}`,
		},
		{
			name:   "value outside the enum",
			schema: `{"type":"object","properties":{"token_kind":{"enum":["bearer","mac"]}}}`,
			config: `{"token_kind":"tk-live-1"}`,
			want:   `{"token_kind":"[REDACTED]"}`,
		},
		{
			name:   "const value",
			schema: `{"type":"object","properties":{"api_key_header":{"const":"X-Api-Key"}}}`,
			config: `{"api_key_header":"X-Api-Key"}`,
			want:   `{"api_key_header":"X-Api-Key"}`,
		},
		{
			name:   "numeric enum compares by value",
			schema: `{"type":"object","properties":{"key_bits":{"enum":[128,256]}}}`,
			config: `{"key_bits":256.0}`,
			want:   `{"key_bits":256.0}`,
		},
		{
			name:   "boolean and integer types",
			schema: `{"type":"object","properties":{"hide_token":{"type":"boolean"},"max_tokens":{"type":"integer"},"secret_ratio":{"type":["number","null"]}}}`,
			config: `{"hide_token":true,"max_tokens":12345678901234567890,"secret_ratio":0.5}`,
			want:   `{"hide_token":true,"max_tokens":12345678901234567890,"secret_ratio":0.5}`,
		},
		{
			name:   "number under a type that allows strings",
			schema: `{"type":"object","properties":{"pin_key":{"type":["string","integer"]}}}`,
			config: `{"pin_key":4711}`,
			want:   `{"pin_key":"[REDACTED]"}`,
		},
		{
			name:   "number without a type",
			schema: `{"type":"object","properties":{"token":{"minimum":1}}}`,
			config: `{"token":4711}`,
			want:   `{"token":"[REDACTED]"}`,
		},
		{
			name:   "free text by name",
			schema: `{"type":"object","properties":{"api_key":{"type":"string"},"header":{"type":"string"}}}`,
			config: `{"api_key":"k-1","header":"X-Api-Key"}`,
			want:   `{"api_key":"[REDACTED]","header":"X-Api-Key"}`,
		},
		{
			name:   "undeclared members by name",
			schema: `{"type":"object","properties":{"mode":{"enum":["a"]}}}`,
			config: `{"mode":"a","secret":"s","extra":{"password":"p","user":"u"}}`,
			want:   `{"extra":{"password":"[REDACTED]","user":"u"},"mode":"a","secret":"[REDACTED]"}`,
		},
		{
			name:   "nested object follows its properties",
			schema: `{"type":"object","properties":{"upstream":{"type":"object","properties":{"pin":{"type":"string","writeOnly":true},"key_type":{"enum":["rsa","ec"]},"host":{"type":"string"}}}}}`,
			config: `{"upstream":{"pin":"1","key_type":"ec","host":"a.example"}}`,
			want:   `{"upstream":{"host":"a.example","key_type":"ec","pin":"[REDACTED]"}}`,
		},
		{
			name:   "array items follow items",
			schema: `{"type":"object","properties":{"pins":{"type":"array","items":{"type":"string","writeOnly":true}},"modes":{"type":"array","items":{"enum":["x","y"]}}}}`,
			config: `{"pins":["1","2"],"modes":["x"]}`,
			want:   `{"modes":["x"],"pins":["[REDACTED]","[REDACTED]"]}`,
		},
		{
			name:   "additionalProperties writeOnly keeps the names",
			schema: `{"type":"object","properties":{"set_headers":{"type":"object","additionalProperties":{"type":"string","writeOnly":true}}}}`,
			config: `{"set_headers":{"Authorization":"Bearer abc"}}`,
			want:   `{"set_headers":{"Authorization":"[REDACTED]"}}`,
		},
		{
			name:   "secret-looking container hidden whole",
			schema: `{"type":"object","properties":{"keys":{"type":"array","items":{"type":"object","properties":{"key":{"type":"string"},"consumer":{"type":"string"}}}}}}`,
			config: `{"keys":[{"key":"k-1","consumer":"mobile"}]}`,
			want:   `{"keys":"[REDACTED]"}`,
		},
		{
			name:   "combinator falls back on names",
			schema: `{"type":"object","properties":{"auth":{"oneOf":[{"type":"object"},{"type":"string"}]},"key":{"enum":["a"],"allOf":[{}]}}}`,
			config: `{"auth":{"token":"t","mode":"m"},"key":"a"}`,
			want:   `{"auth":{"mode":"m","token":"[REDACTED]"},"key":"[REDACTED]"}`,
		},
		{
			name:   "ref to a writeOnly definition",
			schema: `{"type":"object","properties":{"pin":{"$ref":"#/$defs/secret"}},"$defs":{"secret":{"type":"string","writeOnly":true}}}`,
			config: `{"pin":"4711"}`,
			want:   `{"pin":"[REDACTED]"}`,
		},
		{
			name:   "writeOnly inside a referenced object",
			schema: `{"type":"object","properties":{"auth":{"$ref":"#/$defs/auth"}},"$defs":{"auth":{"type":"object","properties":{"pin":{"type":"string","writeOnly":true},"user":{"type":"string"}}}}}`,
			config: `{"auth":{"pin":"4711","user":"ada"}}`,
			want:   `{"auth":{"pin":"[REDACTED]","user":"ada"}}`,
		},
		{
			name:   "ref to writeOnly items",
			schema: `{"type":"object","properties":{"pins":{"$ref":"#/$defs/pins"},"hosts":{"$ref":"#/$defs/hosts"}},"$defs":{"pins":{"type":"array","items":{"writeOnly":true}},"hosts":{"type":"array"}}}`,
			config: `{"pins":["1"],"hosts":["a.example"]}`,
			want:   `{"hosts":["a.example"],"pins":"[REDACTED]"}`,
		},
		{
			name:   "recursive reference ends",
			schema: `{"type":"object","properties":{"tree":{"$ref":"#/$defs/node"}},"$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"child":{"$ref":"#/$defs/node"}}}}}`,
			config: `{"tree":{"name":"a","child":{"name":"b"}}}`,
			want:   `{"tree":{"child":{"name":"b"},"name":"a"}}`,
		},
		{
			name:   "tuple items fall back on names",
			schema: `{"type":"object","properties":{"pair":{"type":"array","items":[{"enum":["token"]}]}}}`,
			config: `{"pair":[{"token":"t"}]}`,
			want:   `{"pair":[{"token":"[REDACTED]"}]}`,
		},
		{
			name:   "default schema is the name rule",
			schema: `{"type":"object"}`,
			config: `{"key":"k","count":1}`,
			want:   `{"count":1,"key":"[REDACTED]"}`,
		},
		{
			name:   "invalid schema is the name rule",
			schema: `not json`,
			config: `{"key":"k","count":1}`,
			want:   `{"count":1,"key":"[REDACTED]"}`,
		},
		{
			name:   "writeOnly root",
			schema: `{"type":"object","writeOnly":true}`,
			config: `{"region":"eu"}`,
			want:   `"[REDACTED]"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BySchema(json.RawMessage(tt.config), json.RawMessage(tt.schema))
			if string(got) != tt.want {
				t.Errorf("BySchema(%s)\n got %s\nwant %s", tt.config, got, tt.want)
			}
		})
	}
}

func TestBySchemaLimitCount(t *testing.T) {
	limitCount, err := catalog.Load("limit-count")
	if err != nil {
		t.Fatal(err)
	}
	config := `{"count":100,"time_window":60,"policy":"redis","key":"header","key_header":"X-Team","rejected_status":429,"rejected_message":"slow down","show_headers":false}`
	want := `{"count":100,"key":"header","key_header":"[REDACTED]","policy":"redis","rejected_message":"slow down","rejected_status":429,"show_headers":false,"time_window":60}`

	got := BySchema(json.RawMessage(config), limitCount.ConfigSchema)
	if string(got) != want {
		t.Errorf("BySchema(limit-count config)\n got %s\nwant %s", got, want)
	}
}

func TestBySchemaNotADocument(t *testing.T) {
	for _, input := range []string{"", "not json", "{"} {
		if got := BySchema([]byte(input), json.RawMessage(`{"type":"object"}`)); got != nil {
			t.Errorf("BySchema(%q) = %s, want nil", input, got)
		}
	}
}

func TestBySchemaHugeExponent(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"key_size":{"enum":[1e999999999]}}}`)
	start := time.Now()

	got := BySchema(json.RawMessage(`{"key_size":1e999999998}`), schema)
	if want := `{"key_size":"[REDACTED]"}`; string(got) != want {
		t.Errorf("BySchema = %s, want %s", got, want)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("BySchema took %v to compare huge exponents, want under 1s", elapsed)
	}
}

func TestBindingRedactsConfigBySchema(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"key":{"enum":["consumer","route"]}}}`)
	binding := `{"id":"bnd_1","plugin":"limit-count","config":{"key":"route","api_key":"k"},"secret_note":"s"}`
	want := `{"config":{"api_key":"[REDACTED]","key":"route"},"id":"bnd_1","plugin":"limit-count","secret_note":"[REDACTED]"}`

	if got := Binding(json.RawMessage(binding), schema); string(got) != want {
		t.Errorf("Binding(%s)\n got %s\nwant %s", binding, got, want)
	}
}

func TestBindingWithoutConfig(t *testing.T) {
	binding := `{"id":"bnd_1","token":"t"}`
	want := `{"id":"bnd_1","token":"[REDACTED]"}`

	if got := Binding(json.RawMessage(binding), nil); string(got) != want {
		t.Errorf("Binding(%s) = %s, want %s", binding, got, want)
	}
	if got := Binding(json.RawMessage("{"), nil); got != nil {
		t.Errorf("Binding of a broken document = %s, want nil", got)
	}
}
