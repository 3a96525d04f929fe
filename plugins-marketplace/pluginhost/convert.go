package pluginhost

import (
	"fmt"
	"sort"

	"github.com/risor-io/risor/object"
)

// maxPlainDepth bounds the nesting of values converted between Risor and
// Go, so that a self-referencing list cannot loop forever.
const maxPlainDepth = 32

// toPlain converts a Risor value to JSON-like Go data: nil, bool, int64,
// float64, string, []any and map[string]any. Other types are an error.
func toPlain(value object.Object) (any, error) {
	return toPlainDepth(value, 0)
}

func toPlainDepth(value object.Object, depth int) (any, error) {
	if depth > maxPlainDepth {
		return nil, fmt.Errorf("value is nested deeper than %d levels", maxPlainDepth)
	}

	switch value := value.(type) {
	case *object.NilType:
		return nil, nil
	case *object.Bool:
		return value.Value(), nil
	case *object.Int:
		return value.Value(), nil
	case *object.Float:
		return value.Value(), nil
	case *object.String:
		return value.Value(), nil
	case *object.List:
		items := value.Value()
		out := make([]any, len(items))
		for i, item := range items {
			plain, err := toPlainDepth(item, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = plain
		}
		return out, nil
	case *object.Map:
		out := make(map[string]any, value.Size())
		for key, item := range value.Value() {
			plain, err := toPlainDepth(item, depth+1)
			if err != nil {
				return nil, err
			}
			out[key] = plain
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %s is not JSON-like data: use nil, bool, int, float, string, list or map", value.Type())
}

// fromPlain converts JSON-like Go data to a new Risor value.
func fromPlain(value any) object.Object {
	switch value := value.(type) {
	case nil:
		return object.Nil
	case bool:
		return object.NewBool(value)
	case int64:
		return object.NewInt(value)
	case int:
		return object.NewInt(int64(value))
	case float64:
		return object.NewFloat(value)
	case string:
		return object.NewString(value)
	case []any:
		items := make([]object.Object, len(value))
		for i, item := range value {
			items[i] = fromPlain(item)
		}
		return object.NewList(items)
	case map[string]any:
		items := make(map[string]object.Object, len(value))
		for key, item := range value {
			items[key] = fromPlain(item)
		}
		return object.NewMap(items)
	}
	return jsonToObject(value)
}

// sortedKeys returns the keys of m in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
