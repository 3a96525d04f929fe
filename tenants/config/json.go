package config

import (
	"bytes"
	"encoding/json"
)

func isJSONObjectOrNull(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	if bytes.Equal(trimmed, []byte("null")) {
		return true
	}
	var object map[string]any
	return json.Unmarshal(trimmed, &object) == nil && len(trimmed) > 0 && trimmed[0] == '{'
}
