package store

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// checkConfigAllocation returns the bytes that CheckConfig allocates, and
// its error.
func checkConfigAllocation(schema, bindingConfig string) (uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := CheckConfig(json.RawMessage(schema), json.RawMessage(bindingConfig))
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// requireCheapConfigCheck fails when CheckSchema accepts schema and
// CheckConfig then allocates more than limit bytes for bindingConfig.
func requireCheapConfigCheck(t *testing.T, schema, bindingConfig string, limit uint64) {
	t.Helper()
	if CheckSchema(json.RawMessage(schema)) != nil {
		return
	}
	allocated, _ := checkConfigAllocation(schema, bindingConfig)
	if allocated > limit {
		t.Errorf("CheckConfig() allocated %d bytes for a %d-byte config, want at most %d or a rejected schema", allocated, len(bindingConfig), limit)
	}
}

// A schema that applies itself twice to each item of an array checks a
// value at depth d 2^d times. The cost walk counts the reference back
// into its own path once, so it counts 5 subschemas and accepts it. A 46-byte config of
// 20 nested arrays took 1.5 s and 536 MB to check on a 2-core test
// machine, and each further level doubles that.
// The validation budget stops it, with an error on the config.
func TestCheckConfigStopsRecursiveFanOut(t *testing.T) {
	schema := `{
		"type": "object",
		"properties": {"a": {"$ref": "#/$defs/node"}},
		"$defs": {"node": {"items": {"allOf": [{"$ref": "#/$defs/node"}, {"$ref": "#/$defs/node"}]}}}
	}`
	bindingConfig := `{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`

	allocated, err := checkConfigAllocation(schema, bindingConfig)
	if err == nil || !strings.Contains(err.Error(), "took more than") {
		t.Errorf("CheckConfig() error = %v, want the validation budget", err)
	}
	if limit := uint64(200 << 20); allocated > limit {
		t.Errorf("CheckConfig() allocated %d bytes, want at most %d", allocated, limit)
	}
}

// dynamicRefChainSchema returns a config schema whose d{k} applies
// d{k+1} twice through "$dynamicRef": "leaf{k+1}#x{k+1}". The static target
// of each reference is the empty resource leaf{k+1}, but validation
// resolves it to d{k+1}, the outermost schema with that dynamic anchor.
func dynamicRefChainSchema(depth int) json.RawMessage {
	defs := map[string]any{}
	for k := range depth {
		next := map[string]any{"$dynamicRef": fmt.Sprintf("leaf%d#x%d", k+1, k+1)}
		defs[fmt.Sprintf("d%d", k)] = map[string]any{"$dynamicAnchor": fmt.Sprintf("x%d", k), "allOf": []any{next, next}}
		defs[fmt.Sprintf("leaf%d", k+1)] = map[string]any{"$id": fmt.Sprintf("leaf%d", k+1), "$dynamicAnchor": fmt.Sprintf("x%d", k+1)}
	}
	defs[fmt.Sprintf("d%d", depth)] = map[string]any{"$dynamicAnchor": fmt.Sprintf("x%d", depth), "type": "object"}

	schema, err := json.Marshal(map[string]any{"type": "object", "$defs": defs, "$ref": "#/$defs/d0"})
	if err != nil {
		panic(err)
	}
	return schema
}

// The cost walk follows a $dynamicRef to its static target only. With 18
// levels, a 2.7 KB schema took 1.2 s and 208 MB to check the config {} on
// a 2-core test machine, and each further level doubles that.
func TestCheckSchemaRejectsDynamicRefFanOut(t *testing.T) {
	requireSchemaFieldError(t, CheckSchema(dynamicRefChainSchema(30)))
}

// The library parses both numbers into a big.Rat for every comparison
// and bound check. Parsing 1e999999 builds a number of about 3.3 million
// bits. On a 2-core test machine, a 65-byte schema with "const": 1e999999
// took 32 s and 3 GB to check a config of 1,000 zeros. A schema with
// "multipleOf": 1e-999999 took 1.2 s and 1.2 GB for 1,000 ones. Numbers
// with huge exponents in the config cost the same against "minimum": 0.
func TestCheckConfigHugeExponentAllocation(t *testing.T) {
	const limit = 8 << 20
	zeros := `{"a":[` + strings.TrimSuffix(strings.Repeat("0,", 10), ",") + `]}`
	ones := `{"a":[` + strings.TrimSuffix(strings.Repeat("1,", 20), ",") + `]}`
	huge := `{"a":[` + strings.TrimSuffix(strings.Repeat("1e999999,", 10), ",") + `]}`
	tests := []struct {
		name          string
		schema        string
		bindingConfig string
	}{
		{"const in schema", `{"type":"object","properties":{"a":{"items":{"const":1e999999}}}}`, zeros},
		{"multipleOf in schema", `{"type":"object","properties":{"a":{"items":{"multipleOf":1e-999999}}}}`, ones},
		{"exponent in config", `{"type":"object","properties":{"a":{"items":{"minimum":0}}}}`, huge},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			requireCheapConfigCheck(t, test.schema, test.bindingConfig, limit)
		})
	}
}

// The library compares a value with each enum value in turn, parsing both
// into a big.Rat when they are numbers. An enum of the 11,851 numbers that
// fit in 60 KB against 4,000 failing items took 80 s and 11.6 GB on a
// 2-core test machine.
func TestCheckConfigLongEnumAllocation(t *testing.T) {
	// An enum of more than maxEnumNumbers numbers is rejected.
	const limit = 48 << 20
	values := make([]string, 2000)
	for i := range values {
		values[i] = fmt.Sprint(i)
	}
	schema := `{"type":"object","properties":{"a":{"items":{"enum":[` + strings.Join(values, ",") + `]}}}}`
	bindingConfig := `{"a":[` + strings.TrimSuffix(strings.Repeat("-1,", 200), ",") + `]}`
	requireCheapConfigCheck(t, schema, bindingConfig, limit)

	// An enum of maxEnumNumbers numbers, the largest accepted, against a
	// config of many failing numbers.
	accepted := `{"type":"object","properties":{"a":{"items":{"enum":[` + strings.Join(values[:maxEnumNumbers], ",") + `]}}}}`
	if err := CheckSchema(json.RawMessage(accepted)); err != nil {
		t.Fatalf("CheckSchema(enum of %d numbers) error = %v, want nil", maxEnumNumbers, err)
	}
	manyItems := `{"a":[` + strings.TrimSuffix(strings.Repeat("-1,", 2000), ",") + `]}`
	requireCheapConfigCheck(t, accepted, manyItems, limit)
}

// With unevaluatedProperties, the library copies an object's properties
// for each subschema that applies to it. A root with an allOf of 1,000
// subschemas against a config of 5,000 properties took 1.5 s and 428 MB
// on a 2-core test machine.
func TestCheckConfigChargesUnevaluatedMembers(t *testing.T) {
	allOf := strings.TrimSuffix(strings.Repeat(`{"type":"object"},`, 1000), ",")
	schema := `{"type":"object","unevaluatedProperties":false,"allOf":[` + allOf + `]}`
	properties := make([]string, 5000)
	for i := range properties {
		properties[i] = fmt.Sprintf(`"p%d":1`, i)
	}
	bindingConfig := `{` + strings.Join(properties, ",") + `}`

	_, err := checkConfigAllocation(schema, bindingConfig)
	if err == nil || !strings.Contains(err.Error(), "took more than") {
		t.Errorf("CheckConfig() error = %.200v, want the validation budget", err)
	}
}
