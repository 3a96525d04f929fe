package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// rawMessageType is skipped by the field-name check because its content
// belongs to a schema, not to a Go struct. Duplicate keys are still found.
var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkFieldNames finds what encoding/json lets through: a key that matches a
// struct field only when case is ignored, and a key repeated in one object,
// where the last value would silently win. It returns nil when body is
// clean or not valid JSON, which the decoder reports on its own.
func checkFieldNames(body []byte, target reflect.Type) *FieldIssue {
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	issue, _ := walkValue(decoder, target, "")
	return issue
}

// walkValue reads one JSON value from decoder, checking objects against t.
// A nil t accepts any key. The error is a syntax error that the caller
// leaves to the decoder.
func walkValue(decoder *json.Decoder, t reflect.Type, path string) (*FieldIssue, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || (t != nil && t.Kind() == reflect.Interface) {
		t = nil
	}

	token, err := decoder.Token()
	if err != nil {
		return nil, err
	}
	switch token {
	case json.Delim('{'):
		return walkObject(decoder, t, path)
	case json.Delim('['):
		return walkArray(decoder, t, path)
	}
	return nil, nil
}

func walkObject(decoder *json.Decoder, t reflect.Type, path string) (*FieldIssue, error) {
	seen := map[string]bool{}
	for decoder.More() {
		token, err := decoder.Token()
		if err != nil {
			return nil, err
		}
		key, _ := token.(string)
		field := joinPath(path, key)

		if seen[key] {
			return &FieldIssue{Field: field, Message: "duplicate field: send each field once"}, nil
		}
		seen[key] = true

		next, known := fieldType(t, key)
		if !known {
			return &FieldIssue{Field: field, Message: "unknown field: field names are case-sensitive, so check the spelling"}, nil
		}
		if issue, err := walkValue(decoder, next, field); issue != nil || err != nil {
			return issue, err
		}
	}
	_, err := decoder.Token()
	return nil, err
}

func walkArray(decoder *json.Decoder, t reflect.Type, path string) (*FieldIssue, error) {
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	for index := 0; decoder.More(); index++ {
		if issue, err := walkValue(decoder, elem, fmt.Sprintf("%s[%d]", path, index)); issue != nil || err != nil {
			return issue, err
		}
	}
	_, err := decoder.Token()
	return nil, err
}

// fieldType returns the type of the struct field whose JSON name is exactly
// key. Maps and unknown types accept every key.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	if t == nil {
		return nil, true
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem(), true
	case reflect.Struct:
		return structFieldType(t, key)
	}
	return nil, true
}

func structFieldType(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		field := t.Field(i)
		if field.Anonymous && field.Type.Kind() == reflect.Struct {
			if found, ok := structFieldType(field.Type, key); ok {
				return found, true
			}
			continue
		}
		if !field.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = field.Name
		}
		if name == key {
			return field.Type, true
		}
	}
	return nil, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
