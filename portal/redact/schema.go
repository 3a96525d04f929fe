package redact

import (
	"bytes"
	"encoding/json"
)

// BySchema returns config, a binding config as JSON, with the values that a
// reader who may not see secrets must not see replaced by Placeholder. It
// returns nil when config does not start with a JSON document. schema is
// the config JSON Schema of the binding's plugin version, and each value
// follows the first of these rules that applies:
//
//  1. A value whose property schema has "writeOnly": true is hidden.
//  2. Below a property with no schema, or with "$ref", "oneOf", "anyOf",
//     "allOf" or another applicator that the walk does not follow, the name
//     rule of Value decides. It also hides every property name that the
//     schema marks writeOnly anywhere, such as in "$defs".
//  3. A value that the schema fixes to public values is shown: a boolean or
//     a number whose "type" allows only booleans, numbers or null, or a
//     value equal to one of the property's "enum" values or its "const".
//  4. A value whose name looks secret to IsSecretKey is hidden whole.
//  5. An object or array follows its sub-schemas in "properties",
//     "additionalProperties" and "items", and any other value is shown.
//
// An empty or invalid schema leaves the name rule alone. Numbers keep their
// exact digits.
func BySchema(config, schema json.RawMessage) json.RawMessage {
	value, ok := decode(config)
	if !ok {
		return nil
	}
	return encode(newSchemaRule(schema).root(value))
}

// Binding returns binding, a binding as the API encodes it, with its
// "config" member redacted by BySchema and every other member by the name
// rule. It returns nil when binding does not start with a JSON document.
func Binding(binding, schema json.RawMessage) json.RawMessage {
	value, ok := decode(binding)
	if !ok {
		return nil
	}
	object, isObject := value.(map[string]any)
	if !isObject {
		return encode(Value(value))
	}

	config, hasConfig := object["config"]
	delete(object, "config")
	Value(object)
	if hasConfig {
		object["config"] = newSchemaRule(schema).root(config)
	}
	return encode(object)
}

// decode reads the first JSON document of data with numbers as
// json.Number, so that encode writes them back digit for digit.
func decode(data []byte) (any, bool) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()

	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, false
	}
	return value, true
}

func encode(value any) json.RawMessage {
	encoded, err := json.Marshal(value)
	if err != nil {
		return nil
	}
	return encoded
}

// schemaRule applies the rules of BySchema for one config schema.
type schemaRule struct {
	// schema is the decoded schema document, nil when it is invalid.
	schema any
	// writeOnlyNames are the property names that the schema marks
	// writeOnly anywhere. The name rule of rule 2 hides them too.
	writeOnlyNames map[string]bool
}

func newSchemaRule(schema json.RawMessage) schemaRule {
	document, ok := decode(schema)
	if !ok {
		return schemaRule{}
	}
	return schemaRule{schema: document, writeOnlyNames: writeOnlyNames(document)}
}

// root redacts a whole config against the schema's root.
func (r schemaRule) root(config any) any {
	return r.member("", config, r.schema)
}

// member redacts value, the member called name, against its schema, nil
// when the schema does not declare it. Array items have the empty name.
func (r schemaRule) member(name string, value, schema any) any {
	object, isObject := schema.(map[string]any)
	if isObject && object["writeOnly"] == true {
		return Placeholder
	}
	if !isObject || !isPlain(object) {
		return r.byName(name, value)
	}
	if isPublic(value, object) {
		return value
	}
	if IsSecretKey(name) {
		return Placeholder
	}

	switch typed := value.(type) {
	case map[string]any:
		for key, inner := range typed {
			typed[key] = r.member(key, inner, propertySchema(object, key))
		}
	case []any:
		for i, inner := range typed {
			typed[i] = r.member("", inner, object["items"])
		}
	}
	return value
}

// byName redacts value, the member called name, by the name rule alone:
// a name that looks secret or that the schema marks writeOnly hides the
// whole value.
func (r schemaRule) byName(name string, value any) any {
	if IsSecretKey(name) || r.writeOnlyNames[name] {
		return Placeholder
	}

	switch typed := value.(type) {
	case map[string]any:
		for key, inner := range typed {
			typed[key] = r.byName(key, inner)
		}
	case []any:
		for i, inner := range typed {
			typed[i] = r.byName("", inner)
		}
	}
	return value
}

// propertySchema returns the schema of an object's member key: its entry
// in "properties", or else "additionalProperties", or nil for neither.
func propertySchema(object map[string]any, key string) any {
	if properties, ok := object["properties"].(map[string]any); ok {
		if schema, declared := properties[key]; declared {
			return schema
		}
	}
	return object["additionalProperties"]
}

// applicators are the JSON Schema keywords, from draft 4 to 2020-12, that
// apply sub-schemas which the walk does not follow. A schema with one of
// them leaves its value to the name rule.
var applicators = []string{
	"$ref", "$dynamicRef", "$recursiveRef",
	"allOf", "anyOf", "oneOf", "not", "if", "then", "else",
	"dependentSchemas", "dependencies", "patternProperties",
	"prefixItems", "additionalItems", "contains",
	"unevaluatedProperties", "unevaluatedItems",
}

func isPlain(schema map[string]any) bool {
	for _, keyword := range applicators {
		if _, found := schema[keyword]; found {
			return false
		}
	}
	return true
}
