package ui

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// Kinds of the inputs that a config schema's properties become.
const (
	kindString  = "string"
	kindInteger = "integer"
	kindNumber  = "number"
	kindBoolean = "boolean"
	kindEnum    = "enum"
	// kindList is an array of strings, integers or numbers, one item a line.
	kindList = "list"
	// kindMap is an object of string values with free keys, one
	// "name: value" pair a line.
	kindMap = "map"
	// kindObject is an object with named properties, a nested fieldset.
	kindObject = "object"
	// kindJSON is any other schema, edited as JSON text.
	kindJSON = "json"
)

// maxFormDepth is the maximum nesting of objects shown as fieldsets. A
// deeper object is edited as JSON text.
const maxFormDepth = 3

// formField is one input of the form generated from a plugin version's
// config schema.
type formField struct {
	// Path is the field as the store's errors name it, such as
	// "config.limits.count", and also the input's name.
	Path        string
	Label       string
	Kind        string
	Required    bool
	Description string
	// Options are an enum's values as JSON text, and ItemKind is the type
	// of a list's items.
	Options  []string
	ItemKind string
	// Range states a number's bounds, such as "≥ 200, ≤ 599", or "".
	Range string
	// Value is the input's text, or "true" for a checked box.
	Value    string
	Children []formField

	// enumValues are the enum's values, in the order of Options.
	enumValues []any
}

// schemaNode is the part of a JSON Schema that the form reads.
type schemaNode struct {
	Type                 any                    `json:"type"`
	Properties           map[string]*schemaNode `json:"properties"`
	Required             []string               `json:"required"`
	Enum                 []any                  `json:"enum"`
	Items                *schemaNode            `json:"items"`
	AdditionalProperties any                    `json:"additionalProperties"`
	Description          string                 `json:"description"`
	Default              any                    `json:"default"`
	Minimum              *float64               `json:"minimum"`
	Maximum              *float64               `json:"maximum"`
}

// typeName returns the schema's single type, or "" for none or several.
func (n *schemaNode) typeName() string {
	if name, ok := n.Type.(string); ok {
		return name
	}
	return ""
}

// buildForm returns the inputs for the properties of a config schema,
// sorted by name. A schema that is no object with properties gives one
// JSON input for the whole config.
func buildForm(rawSchema json.RawMessage) ([]formField, error) {
	var root schemaNode
	if len(rawSchema) > 0 {
		if err := json.Unmarshal(rawSchema, &root); err != nil {
			return nil, fmt.Errorf("decode config schema: %w", err)
		}
	}
	if len(root.Properties) == 0 {
		return []formField{{Path: "config", Label: "config", Kind: kindJSON}}, nil
	}
	return buildFields("config", &root, 1), nil
}

func buildFields(parent string, node *schemaNode, depth int) []formField {
	names := make([]string, 0, len(node.Properties))
	for name := range node.Properties {
		names = append(names, name)
	}
	sort.Strings(names)

	fields := make([]formField, 0, len(names))
	for _, name := range names {
		property := node.Properties[name]
		if property == nil {
			property = &schemaNode{}
		}
		field := formField{
			Path:        parent + "." + name,
			Label:       name,
			Required:    slices.Contains(node.Required, name),
			Description: property.Description,
		}
		field.Kind, field.ItemKind = fieldKind(property, depth)
		if field.Kind == kindEnum {
			field.Options, field.enumValues = enumOptions(property.Enum), property.Enum
		}
		if field.Kind == kindObject {
			field.Children = buildFields(field.Path, property, depth+1)
		}
		field.Range = numberRange(property)
		field.Value = defaultValue(field, property.Default)
		fields = append(fields, field)
	}
	return fields
}

// fieldKind picks the input for a property schema.
func fieldKind(node *schemaNode, depth int) (kind, itemKind string) {
	if len(node.Enum) > 0 {
		return kindEnum, ""
	}

	switch node.typeName() {
	case kindString, kindInteger, kindNumber, kindBoolean:
		return node.typeName(), ""
	case "array":
		if node.Items != nil && len(node.Items.Enum) == 0 {
			switch node.Items.typeName() {
			case kindString, kindInteger, kindNumber:
				return kindList, node.Items.typeName()
			}
		}
	case "object":
		if len(node.Properties) > 0 && depth < maxFormDepth {
			return kindObject, ""
		}
		if values, ok := node.AdditionalProperties.(map[string]any); ok && len(node.Properties) == 0 && values["type"] == kindString {
			return kindMap, ""
		}
	}
	return kindJSON, ""
}

// numberRange states the minimum and maximum of a number schema, or of the
// items of an array of numbers.
func numberRange(node *schemaNode) string {
	if node.Items != nil {
		node = node.Items
	}
	var bounds []string
	if node.Minimum != nil {
		bounds = append(bounds, "≥ "+strconv.FormatFloat(*node.Minimum, 'f', -1, 64))
	}
	if node.Maximum != nil {
		bounds = append(bounds, "≤ "+strconv.FormatFloat(*node.Maximum, 'f', -1, 64))
	}
	return strings.Join(bounds, ", ")
}

func enumOptions(values []any) []string {
	options := make([]string, 0, len(values))
	for _, value := range values {
		if text, ok := value.(string); ok {
			options = append(options, text)
			continue
		}
		encoded, _ := json.Marshal(value)
		options = append(options, string(encoded))
	}
	return options
}

// defaultValue returns the input text of a schema default. Defaults of
// nested objects fill their children instead.
func defaultValue(field formField, value any) string {
	if value == nil || field.Kind == kindObject {
		return ""
	}
	return valueText(field, value)
}

// valueText returns the input text of a config value.
func valueText(field formField, value any) string {
	switch field.Kind {
	case kindList:
		items, _ := value.([]any)
		lines := make([]string, 0, len(items))
		for _, item := range items {
			lines = append(lines, scalarText(item))
		}
		return strings.Join(lines, "\n")
	case kindMap:
		entries, _ := value.(map[string]any)
		keys := make([]string, 0, len(entries))
		for key := range entries {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		lines := make([]string, 0, len(keys))
		for _, key := range keys {
			lines = append(lines, key+": "+scalarText(entries[key]))
		}
		return strings.Join(lines, "\n")
	case kindJSON:
		encoded, _ := json.MarshalIndent(value, "", "  ")
		return string(encoded)
	}
	return scalarText(value)
}

func scalarText(value any) string {
	switch typed := value.(type) {
	case string:
		return typed
	case bool:
		return strconv.FormatBool(typed)
	}
	encoded, _ := json.Marshal(value)
	return string(encoded)
}

// fillFromConfig sets the fields' values from a stored config.
func fillFromConfig(fields []formField, raw json.RawMessage) {
	var value any
	if err := json.Unmarshal(raw, &value); err != nil {
		return
	}
	if len(fields) == 1 && fields[0].Kind == kindJSON && fields[0].Path == "config" {
		fields[0].Value = valueText(fields[0], value)
		return
	}
	object, _ := value.(map[string]any)
	fillObject(fields, object)
}

func fillObject(fields []formField, object map[string]any) {
	for i := range fields {
		field := &fields[i]
		value, found := object[field.Label]
		switch {
		case field.Kind == kindObject:
			inner, _ := value.(map[string]any)
			fillObject(field.Children, inner)
		case !found:
			field.Value = ""
		default:
			field.Value = valueText(*field, value)
		}
	}
}

// fillFromForm sets the fields' values from the posted form.
func fillFromForm(fields []formField, formValue func(string) string) {
	for i := range fields {
		field := &fields[i]
		if field.Kind == kindObject {
			fillFromForm(field.Children, formValue)
			continue
		}
		field.Value = formValue(field.Path)
	}
}

// assembleConfig builds the config JSON from the posted form. An empty
// input leaves its property out, so the schema's default applies. A value
// that is not of the input's type is a field error with the input's path.
// The store validates the result against the schema.
func assembleConfig(fields []formField, formValue func(string) string) (json.RawMessage, error) {
	if len(fields) == 1 && fields[0].Kind == kindJSON && fields[0].Path == "config" {
		text := strings.TrimSpace(formValue("config"))
		if text == "" {
			text = "{}"
		}
		return json.RawMessage(text), nil
	}

	object, err := assembleObject(fields, formValue)
	if err != nil {
		return nil, err
	}
	return json.Marshal(object)
}

func assembleObject(fields []formField, formValue func(string) string) (map[string]any, error) {
	object := map[string]any{}
	for _, field := range fields {
		if field.Kind == kindObject {
			inner, err := assembleObject(field.Children, formValue)
			if err != nil {
				return nil, err
			}
			if len(inner) > 0 || field.Required {
				object[field.Label] = inner
			}
			continue
		}

		text := strings.TrimSpace(formValue(field.Path))
		if field.Kind == kindBoolean {
			object[field.Label] = text == "true"
			continue
		}
		if text == "" {
			continue
		}
		value, err := parseInput(field, text)
		if err != nil {
			return nil, err
		}
		object[field.Label] = value
	}
	return object, nil
}

// parseInput converts the text of one input to its JSON value. Its errors
// are *config.FieldError values on the input's path.
func parseInput(field formField, text string) (any, error) {
	switch field.Kind {
	case kindInteger, kindNumber:
		return parseScalar(field.Path, field.Kind, text)
	case kindEnum:
		index := slices.Index(field.Options, text)
		if index < 0 {
			return nil, config.Invalid(field.Path, "%q is not one of %s", text, strings.Join(field.Options, ", "))
		}
		return field.enumValues[index], nil
	case kindList:
		items := []any{}
		for _, line := range splitLines(text) {
			item, err := parseScalar(field.Path, field.ItemKind, line)
			if err != nil {
				return nil, err
			}
			items = append(items, item)
		}
		return items, nil
	case kindMap:
		return parseMap(field.Path, text)
	case kindJSON:
		var value any
		if err := json.Unmarshal([]byte(text), &value); err != nil {
			return nil, store.InvalidJSON(field.Path, []byte(text), err)
		}
		return value, nil
	}
	return text, nil
}

func parseScalar(path, kind, text string) (any, error) {
	switch kind {
	case kindInteger:
		value, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, config.Invalid(path, "%q is not an integer", text)
		}
		return value, nil
	case kindNumber:
		value, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, config.Invalid(path, "%q is not a number", text)
		}
		return value, nil
	}
	return text, nil
}

func parseMap(path, text string) (map[string]any, error) {
	entries := map[string]any{}
	for _, line := range splitLines(text) {
		key, value, found := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		if !found || key == "" {
			return nil, config.Invalid(path, "line %q is not a name and a value: write one pair a line, such as X-Frame-Options: DENY", line)
		}
		entries[key] = strings.TrimSpace(value)
	}
	return entries, nil
}
