package redact

import (
	"net/url"
	"strconv"
	"strings"
)

// writeOnlyNames returns the name of every property, anywhere in a schema
// document, whose value holds a writeOnly value with no name of its own:
// its schema, or a schema that it applies to its items or members, has
// "writeOnly": true. Local references such as "#/$defs/secret" are
// followed. The name rule hides these names where the walk cannot tell
// which sub-schema applies.
func writeOnlyNames(document any) map[string]bool {
	names := map[string]bool{}
	collectWriteOnlyNames(document, document, names)
	return names
}

func collectWriteOnlyNames(node, document any, names map[string]bool) {
	switch typed := node.(type) {
	case map[string]any:
		if properties, ok := typed["properties"].(map[string]any); ok {
			for name, schema := range properties {
				if containsWriteOnly(schema, document, map[string]bool{}) {
					names[name] = true
				}
			}
		}
		for _, inner := range typed {
			collectWriteOnlyNames(inner, document, names)
		}
	case []any:
		for _, inner := range typed {
			collectWriteOnlyNames(inner, document, names)
		}
	}
}

// containsWriteOnly reports whether node, or a schema below it or behind a
// local "$ref" in it, has "writeOnly": true. It skips "properties", whose
// members have names that collectWriteOnlyNames records. visited holds the
// references already followed, so that a recursive schema ends.
func containsWriteOnly(node, document any, visited map[string]bool) bool {
	switch typed := node.(type) {
	case map[string]any:
		if typed["writeOnly"] == true {
			return true
		}
		if ref, ok := typed["$ref"].(string); ok && !visited[ref] {
			visited[ref] = true
			if containsWriteOnly(resolveLocal(document, ref), document, visited) {
				return true
			}
		}
		for keyword, inner := range typed {
			if keyword != "properties" && containsWriteOnly(inner, document, visited) {
				return true
			}
		}
	case []any:
		for _, inner := range typed {
			if containsWriteOnly(inner, document, visited) {
				return true
			}
		}
	}
	return false
}

// resolveLocal returns the part of document that a reference such as
// "#/$defs/secret" points to, or nil when it points nowhere.
//
// NOTE: only JSON Pointer fragments resolve. A reference by "$anchor" or
// "$id" resolves to nil, so a writeOnly schema reached only that way is not
// found here.
func resolveLocal(document any, ref string) any {
	fragment, found := strings.CutPrefix(ref, "#")
	if !found {
		return nil
	}
	fragment, err := url.PathUnescape(fragment)
	if err != nil {
		return nil
	}
	if fragment == "" {
		return document
	}
	pointer, found := strings.CutPrefix(fragment, "/")
	if !found {
		return nil
	}

	current := document
	for _, token := range strings.Split(pointer, "/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
		switch typed := current.(type) {
		case map[string]any:
			current = typed[token]
		case []any:
			index, err := strconv.Atoi(token)
			if err != nil || index < 0 || index >= len(typed) {
				return nil
			}
			current = typed[index]
		default:
			return nil
		}
	}
	return current
}
