package ui

import (
	"encoding/json"
	"errors"
	"testing"

	"portcullis.dev/tenants/config"
)

func fieldByPath(fields []formField, path string) *formField {
	for i := range fields {
		if fields[i].Path == path {
			return &fields[i]
		}
		if found := fieldByPath(fields[i].Children, path); found != nil {
			return found
		}
	}
	return nil
}

func TestBuildFormKinds(t *testing.T) {
	fields, err := buildForm(json.RawMessage(richSchema))
	if err != nil {
		t.Fatalf("buildForm: %v", err)
	}

	tests := []struct {
		path     string
		kind     string
		required bool
		value    string
	}{
		{"config.greeting", kindString, true, ""},
		{"config.retries", kindInteger, false, ""},
		{"config.ratio", kindNumber, false, ""},
		{"config.verbose", kindBoolean, false, "true"},
		{"config.mode", kindEnum, false, ""},
		{"config.hosts", kindList, false, ""},
		{"config.codes", kindList, false, ""},
		{"config.headers", kindMap, false, ""},
		{"config.limits", kindObject, false, ""},
		{"config.limits.count", kindInteger, true, ""},
		{"config.rules", kindJSON, false, ""},
	}
	for _, tt := range tests {
		field := fieldByPath(fields, tt.path)
		if field == nil {
			t.Errorf("form lacks %s", tt.path)
			continue
		}
		if field.Kind != tt.kind || field.Required != tt.required || field.Value != tt.value {
			t.Errorf("%s: kind %q required %v value %q, want %q %v %q", tt.path, field.Kind, field.Required, field.Value, tt.kind, tt.required, tt.value)
		}
	}
	if retries := fieldByPath(fields, "config.retries"); retries != nil && retries.Range != "≥ 0" {
		t.Errorf("config.retries range = %q, want ≥ 0", retries.Range)
	}
	if mode := fieldByPath(fields, "config.mode"); mode != nil && len(mode.Options) != 2 {
		t.Errorf("config.mode options = %v, want fast and safe", mode.Options)
	}
}

func TestBuildFormWithoutProperties(t *testing.T) {
	for _, schema := range []string{"", `{"type":"object"}`} {
		fields, err := buildForm(json.RawMessage(schema))
		if err != nil {
			t.Fatalf("buildForm(%q): %v", schema, err)
		}
		if len(fields) != 1 || fields[0].Kind != kindJSON || fields[0].Path != "config" {
			t.Errorf("buildForm(%q) = %+v, want one JSON input for the whole config", schema, fields)
		}
	}
}

func TestAssembleConfig(t *testing.T) {
	fields, err := buildForm(json.RawMessage(richSchema))
	if err != nil {
		t.Fatal(err)
	}
	form := map[string]string{
		"config.greeting":     "hello",
		"config.retries":      "3",
		"config.ratio":        "0.25",
		"config.mode":         "safe",
		"config.hosts":        "a.example\n\n b.example ",
		"config.codes":        "200\n404",
		"config.headers":      "X-One: 1\nX-Two: a: b",
		"config.limits.count": "7",
		"config.rules":        `[{"match":"/a"}]`,
	}

	raw, err := assembleConfig(fields, func(key string) string { return form[key] })
	if err != nil {
		t.Fatalf("assembleConfig: %v", err)
	}
	want := `{"codes":[200,404],"greeting":"hello","headers":{"X-One":"1","X-Two":"a: b"},"hosts":["a.example","b.example"],"limits":{"count":7},"mode":"safe","ratio":0.25,"retries":3,"rules":[{"match":"/a"}],"verbose":false}`
	if string(raw) != want {
		t.Errorf("config =\n%s\nwant\n%s", raw, want)
	}
}

func TestAssembleConfigRejectsWrongType(t *testing.T) {
	fields, err := buildForm(json.RawMessage(richSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input string
		value string
	}{
		{"integer", "config.retries", "three"},
		{"nested integer", "config.limits.count", "1.5"},
		{"number", "config.ratio", "half"},
		{"list item", "config.codes", "200\nok"},
		{"map line", "config.headers", "no colon"},
		{"json", "config.rules", "[{"},
		{"enum", "config.mode", "slow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := map[string]string{"config.greeting": "hi", tt.input: tt.value}
			_, err := assembleConfig(fields, func(key string) string { return form[key] })

			var fieldErr *config.FieldError
			if !errors.As(err, &fieldErr) || fieldErr.Field != tt.input {
				t.Errorf("assembleConfig with %s = %q: error %v, want a field error on %s", tt.input, tt.value, err, tt.input)
			}
		})
	}
}

func TestFillFromConfigRoundTrip(t *testing.T) {
	fields, err := buildForm(json.RawMessage(richSchema))
	if err != nil {
		t.Fatal(err)
	}
	stored := `{"greeting":"hi","verbose":false,"hosts":["a","b"],"headers":{"X-A":"1"},"limits":{"count":2},"mode":"fast"}`
	fillFromConfig(fields, json.RawMessage(stored))

	values := map[string]string{}
	var collect func([]formField)
	collect = func(fields []formField) {
		for _, field := range fields {
			values[field.Path] = field.Value
			collect(field.Children)
		}
	}
	collect(fields)

	raw, err := assembleConfig(fields, func(key string) string { return values[key] })
	if err != nil {
		t.Fatalf("assembleConfig of the filled form: %v", err)
	}
	var got, want any
	json.Unmarshal(raw, &got)
	json.Unmarshal([]byte(stored), &want)
	gotText, _ := json.Marshal(got)
	wantText, _ := json.Marshal(want)
	if string(gotText) != string(wantText) {
		t.Errorf("round trip = %s, want %s", gotText, wantText)
	}
}

func TestSummary(t *testing.T) {
	readme := "# key-auth\n\nAccepts a request only with a key in `X-Api-Key`. Other requests\nend with 401.\n\n| table |"
	if got, want := summary(readme), "Accepts a request only with a key in X-Api-Key."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if got := summary(""); got != "" {
		t.Errorf("summary of an empty README = %q, want empty", got)
	}
}
