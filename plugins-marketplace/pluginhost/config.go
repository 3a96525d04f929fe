package pluginhost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/risor-io/risor/object"
)

// decodeConfig converts a binding's JSON config to a Risor map. Empty input
// and JSON null give an empty map, and any other non-object is an error.
func decodeConfig(raw json.RawMessage) (*object.Map, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return object.NewMap(map[string]object.Object{}), nil
	}

	decoder := json.NewDecoder(bytes.NewReader(trimmed))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, fmt.Errorf("invalid config JSON: %w", err)
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid config JSON: unexpected data after the top-level value")
	}

	fields, ok := value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config must be a JSON object, got %s", jsonKind(value))
	}
	return jsonToObject(fields).(*object.Map), nil
}

// jsonToObject converts a value decoded with json.Decoder.UseNumber.
// Integral numbers that fit int64 become ints, and other numbers floats.
func jsonToObject(value any) object.Object {
	switch value := value.(type) {
	case map[string]any:
		items := make(map[string]object.Object, len(value))
		for key, item := range value {
			items[key] = jsonToObject(item)
		}
		return object.NewMap(items)
	case []any:
		items := make([]object.Object, len(value))
		for i, item := range value {
			items[i] = jsonToObject(item)
		}
		return object.NewList(items)
	case json.Number:
		return numberToObject(value)
	case string:
		return object.NewString(value)
	case bool:
		return object.NewBool(value)
	default:
		return object.Nil
	}
}

func numberToObject(number json.Number) object.Object {
	if i, err := number.Int64(); err == nil {
		return object.NewInt(i)
	}
	// Decode already checked the syntax, so only range errors remain, and
	// ParseFloat then returns ±Inf, which Risor can represent.
	f, _ := number.Float64()
	return object.NewFloat(f)
}

func jsonKind(value any) string {
	switch value.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return fmt.Sprintf("%T", value)
	}
}

// copyConfig returns a deep copy of a value built by jsonToObject, so that a
// hook that changes its conf changes only its own copy. Strings, numbers,
// booleans and nil are immutable in Risor and are shared.
func copyConfig(value object.Object) object.Object {
	switch value := value.(type) {
	case *object.Map:
		items := make(map[string]object.Object, value.Size())
		for key, item := range value.Value() {
			items[key] = copyConfig(item)
		}
		return object.NewMap(items)
	case *object.List:
		source := value.Value()
		items := make([]object.Object, len(source))
		for i, item := range source {
			items[i] = copyConfig(item)
		}
		return object.NewList(items)
	default:
		return value
	}
}

// configShape is a config value built by jsonToObject together with the
// keys of each of its maps. With them, sameConfig checks a copy by map
// lookups, which cost less than iterating the original's maps on every
// hook call. A bound config never changes, so its shape is made once.
type configShape struct {
	value object.Object

	// keys are the keys of a map value, and items the shapes of its
	// entries in the same order, or of a list value's items.
	keys  []string
	items []configShape
}

// shapeOf returns the shape of a value built by jsonToObject.
func shapeOf(value object.Object) configShape {
	switch value := value.(type) {
	case *object.Map:
		shape := configShape{value: value, keys: make([]string, 0, value.Size()), items: make([]configShape, 0, value.Size())}
		for key, item := range value.Value() {
			shape.keys = append(shape.keys, key)
			shape.items = append(shape.items, shapeOf(item))
		}
		return shape
	case *object.List:
		source := value.Value()
		shape := configShape{value: value, items: make([]configShape, len(source))}
		for i, item := range source {
			shape.items[i] = shapeOf(item)
		}
		return shape
	default:
		return configShape{value: value}
	}
}

// sameConfig reports whether copied, made by copyConfig from the value of
// original, still matches it. A match has the same keys and length in
// every map and list, and the same objects at the leaves, which copyConfig
// shares and no script can change in place. It allocates nothing, so
// checking a copy after each call costs less than making a new one.
func sameConfig(copied object.Object, original *configShape) bool {
	switch value := original.value.(type) {
	case *object.Map:
		copiedMap, ok := copied.(*object.Map)
		if !ok || copiedMap == value || copiedMap.Size() != len(original.keys) {
			return false
		}
		items := copiedMap.Value()
		for i, key := range original.keys {
			if item, found := items[key]; !found || !sameConfig(item, &original.items[i]) {
				return false
			}
		}
		return true
	case *object.List:
		copiedList, ok := copied.(*object.List)
		if !ok || copiedList == value || len(copiedList.Value()) != len(original.items) {
			return false
		}
		items := copiedList.Value()
		for i := range original.items {
			if !sameConfig(items[i], &original.items[i]) {
				return false
			}
		}
		return true
	default:
		return copied == value
	}
}
