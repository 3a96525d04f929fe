package redact

import (
	"encoding/json"
	"math/big"
)

// publicTypes are the JSON Schema types whose values a reader may always
// see, because they cannot carry a free-text secret.
var publicTypes = map[string]bool{"boolean": true, "number": true, "integer": true, "null": true}

// isPublic reports whether schema fixes value to public values: a boolean
// or a number under a "type" of only public types, or a value equal to one
// of its "enum" values or its "const".
func isPublic(value any, schema map[string]any) bool {
	if constant, found := schema["const"]; found && jsonEqual(value, constant) {
		return true
	}
	if values, ok := schema["enum"].([]any); ok {
		for _, allowed := range values {
			if jsonEqual(value, allowed) {
				return true
			}
		}
	}

	switch value.(type) {
	case bool, json.Number:
		return hasOnlyPublicTypes(schema["type"])
	}
	return false
}

// hasOnlyPublicTypes reports whether a "type" keyword, a name or a list of
// names, is present and allows public types only.
func hasOnlyPublicTypes(declared any) bool {
	switch typed := declared.(type) {
	case string:
		return publicTypes[typed]
	case []any:
		if len(typed) == 0 {
			return false
		}
		for _, item := range typed {
			name, ok := item.(string)
			if !ok || !publicTypes[name] {
				return false
			}
		}
		return true
	}
	return false
}

// jsonEqual reports whether two decoded JSON values are equal as JSON
// Schema compares them: numbers by value, so 1 equals 1.0, and objects
// without regard to member order.
func jsonEqual(a, b any) bool {
	switch left := a.(type) {
	case json.Number:
		right, ok := b.(json.Number)
		return ok && sameNumber(left, right)
	case map[string]any:
		right, ok := b.(map[string]any)
		if !ok || len(left) != len(right) {
			return false
		}
		for key, inner := range left {
			other, found := right[key]
			if !found || !jsonEqual(inner, other) {
				return false
			}
		}
		return true
	case []any:
		right, ok := b.([]any)
		if !ok || len(left) != len(right) {
			return false
		}
		for i := range left {
			if !jsonEqual(left[i], right[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// numberPrecision is the mantissa size, in bits, at which sameNumber
// compares. It is exact for every integer of up to 150 decimal digits, and
// unlike big.Rat it keeps a huge exponent such as 1e999999 cheap to parse.
const numberPrecision = 512

func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	left, _, errLeft := big.ParseFloat(string(a), 10, numberPrecision, big.ToNearestEven)
	right, _, errRight := big.ParseFloat(string(b), 10, numberPrecision, big.ToNearestEven)
	if errLeft != nil || errRight != nil || left.IsInf() || right.IsInf() {
		// An exponent beyond the range of big.Float parses as infinity,
		// which would equal every other such number.
		return false
	}
	return left.Cmp(right) == 0
}
