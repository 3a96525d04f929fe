// Package redact hides secrets in JSON documents before the portal stores
// them in the audit log or shows them to a reader who may not see secrets.
//
// A key is secret when it contains one of the words "key", "secret",
// "password" or "token", in any case. Its value, whatever its type, is
// replaced by Placeholder at any depth. This name rule is the whole rule
// for most documents. A binding config follows BySchema, which lets the
// plugin version's config schema hide or show a value whatever its name.
package redact

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Placeholder replaces the value of every secret key.
const Placeholder = "[REDACTED]"

// secretWords mark a secret key: a key that contains one of them, in any
// case.
var secretWords = []string{"key", "secret", "password", "token"}

// IsSecretKey reports whether a JSON object key names a secret.
func IsSecretKey(key string) bool {
	lower := strings.ToLower(key)
	for _, word := range secretWords {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

// Value replaces, in place, the value of every secret key in value, a
// document decoded by encoding/json into any, and returns value.
func Value(value any) any {
	switch typed := value.(type) {
	case map[string]any:
		for key, inner := range typed {
			if IsSecretKey(key) {
				typed[key] = Placeholder
				continue
			}
			typed[key] = Value(inner)
		}
	case []any:
		for i, inner := range typed {
			typed[i] = Value(inner)
		}
	}
	return value
}

// JSON returns the first JSON document in data with the value of every
// secret key replaced, or nil when data does not start with a JSON
// document. Numbers keep their exact digits.
func JSON(data []byte) json.RawMessage {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()

	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil
	}
	encoded, err := json.Marshal(Value(value))
	if err != nil {
		return nil
	}
	return encoded
}
