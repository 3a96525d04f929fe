package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

// refFanOutSchema returns a config schema whose root refers to d0, and
// each d{i} applies d{i+1} twice through allOf. A validator that follows
// every reference checks one value 2^depth times.
func refFanOutSchema(depth int) json.RawMessage {
	defs := map[string]any{}
	for i := range depth {
		next := map[string]any{"$ref": fmt.Sprintf("#/$defs/d%d", i+1)}
		defs[fmt.Sprintf("d%d", i)] = map[string]any{"allOf": []any{next, next}}
	}
	defs[fmt.Sprintf("d%d", depth)] = map[string]any{"type": "object"}

	schema, err := json.Marshal(map[string]any{"type": "object", "$defs": defs, "$ref": "#/$defs/d0"})
	if err != nil {
		panic(err)
	}
	return schema
}

// requireSchemaFieldError fails unless err is a *config.FieldError on
// config_schema or a field below it.
func requireSchemaFieldError(t *testing.T, err error) {
	t.Helper()
	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) {
		t.Fatalf("CheckSchema() error = %v, want a *config.FieldError", err)
	}
	if !strings.HasPrefix(fieldErr.Field, "config_schema") {
		t.Errorf("field = %q, want config_schema or a field below it", fieldErr.Field)
	}
}

// A schema of 1.5 KiB that doubles its references 40 times would keep
// every binding write and install move of the plugin validating one
// config for 2^40 steps, inside the tenant's write transaction. The
// check must reject it without validating anything.
func TestCheckSchemaRejectsRefFanOut(t *testing.T) {
	err := CheckSchema(refFanOutSchema(40))
	requireSchemaFieldError(t, err)
}

func TestCheckSchemaKeepsRecursiveRef(t *testing.T) {
	tree := json.RawMessage(`{
		"type": "object",
		"$defs": {"node": {
			"type": "object",
			"properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}
		}},
		"$ref": "#/$defs/node"
	}`)
	if err := CheckSchema(tree); err != nil {
		t.Fatalf("CheckSchema(recursive tree) error = %v, want nil", err)
	}

	bindingConfig := json.RawMessage(`{"children": [{"children": []}, {"children": [{"children": []}]}]}`)
	if err := CheckConfig(tree, bindingConfig); err != nil {
		t.Errorf("CheckConfig(recursive tree) error = %v, want nil", err)
	}
}

// Go's regexp matches in time proportional to the text times the size of
// the compiled program. A 71-byte pattern compiles to about 10,000
// instructions, and on a 2-core test machine one 60 KB config string took
// 5 s to check against it.
func TestCheckSchemaRejectsLargePattern(t *testing.T) {
	pattern := strings.Repeat(".{1000}", 10) + "Z"
	tests := map[string]map[string]any{
		"pattern": {
			"type":       "object",
			"properties": map[string]any{"s": map[string]any{"type": "string", "pattern": pattern}},
		},
		"patternProperties": {
			"type":              "object",
			"patternProperties": map[string]any{pattern: map[string]any{"type": "string"}},
		},
	}
	for name, document := range tests {
		t.Run(name, func(t *testing.T) {
			schema, err := json.Marshal(document)
			if err != nil {
				t.Fatal(err)
			}
			requireSchemaFieldError(t, CheckSchema(schema))
		})
	}
}

func TestCheckSchemaKeepsSmallPattern(t *testing.T) {
	schema := json.RawMessage(`{
		"type": "object",
		"properties": {"header": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,63}$"}},
		"patternProperties": {"^x-[a-z]+$": {"type": "string"}}
	}`)
	if err := CheckSchema(schema); err != nil {
		t.Fatalf("CheckSchema() error = %v, want nil", err)
	}
	if err := CheckConfig(schema, json.RawMessage(`{"header": "X-Api-Key", "x-team": "a"}`)); err != nil {
		t.Errorf("CheckConfig() error = %v, want nil", err)
	}
}

// A config can fail one keyword many times, and a keyword such as a long
// enum makes a long message. Formatting a message for every failure before
// the list was cut to maxSchemaErrors took 38 s and 24 GB for an enum of
// 8,000 values and a 64 KB config of 16,000 failing items on a 2-core test
// machine. Only the reported errors may cost a message.
func TestCheckConfigManyFailuresAllocation(t *testing.T) {
	const failing = 1200
	enum := make([]any, 300)
	for i := range enum {
		enum[i] = fmt.Sprintf("value-%d", i)
	}
	schema, err := json.Marshal(map[string]any{
		"type":       "object",
		"properties": map[string]any{"a": map[string]any{"type": "array", "items": map[string]any{"enum": enum}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bindingConfig := json.RawMessage(`{"a":[` + strings.TrimSuffix(strings.Repeat(`"x",`, failing), ",") + `]}`)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = CheckConfig(schema, bindingConfig)
	runtime.ReadMemStats(&after)

	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) {
		t.Fatalf("CheckConfig() error = %v, want field errors", err)
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok && len(joined.Unwrap()) > maxSchemaErrors {
		t.Errorf("CheckConfig() returned %d errors, want at most %d", len(joined.Unwrap()), maxSchemaErrors)
	}
	if allocated, limit := after.TotalAlloc-before.TotalAlloc, uint64(20<<20); allocated > limit {
		t.Errorf("CheckConfig() allocated %d bytes for %d failing items, want at most %d", allocated, failing, limit)
	}
}
