package redact

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// refSpellingsSchema builds a config schema in which every one of
// properties properties refers to "#/$defs/spellings", a schema of refs
// spelled spellings different ways that all point to "#/$defs/target", an
// "enum" of items numbers. No property is writeOnly.
func refSpellingsSchema(properties, spellings, items int) []byte {
	var schema strings.Builder
	schema.WriteString(`{"type":"object","properties":{`)
	for i := range properties {
		if i > 0 {
			schema.WriteString(",")
		}
		fmt.Fprintf(&schema, `"p%d":{"$ref":"#/$defs/spellings"}`, i)
	}

	schema.WriteString(`},"$defs":{"spellings":{"anyOf":[`)
	for i, ref := range pointerSpellings("/$defs/target", spellings) {
		if i > 0 {
			schema.WriteString(",")
		}
		fmt.Fprintf(&schema, `{"$ref":"#%s"}`, ref)
	}

	schema.WriteString(`]},"target":{"enum":[`)
	for i := range items {
		if i > 0 {
			schema.WriteString(",")
		}
		schema.WriteString("0")
	}
	schema.WriteString(`]}}}`)
	return []byte(schema.String())
}

// pointerSpellings returns count different URI fragment spellings of
// pointer, which percent-encode different subsets of its bytes.
func pointerSpellings(pointer string, count int) []string {
	if count > 1<<len(pointer) {
		panic(fmt.Sprintf("pointer %q has fewer than %d spellings", pointer, count))
	}
	spellings := make([]string, 0, count)
	for mask := range count {
		var spelling strings.Builder
		for i := range len(pointer) {
			if mask&(1<<i) != 0 {
				fmt.Fprintf(&spelling, "%%%02X", pointer[i])
			} else {
				spelling.WriteByte(pointer[i])
			}
		}
		spellings = append(spellings, spelling.String())
	}
	return spellings
}

// countContainers returns the number of objects and arrays in value.
func countContainers(value any) int {
	count := 0
	switch typed := value.(type) {
	case map[string]any:
		count++
		for _, inner := range typed {
			count += countContainers(inner)
		}
	case []any:
		count++
		for _, inner := range typed {
			count += countContainers(inner)
		}
	}
	return count
}

func decodeSchema(t *testing.T, schema []byte) any {
	t.Helper()
	document, ok := decode(schema)
	if !ok {
		t.Fatalf("invalid test schema %s", schema)
	}
	return document
}

func TestWriteOnlyWalkExaminesNodesOnce(t *testing.T) {
	document := decodeSchema(t, refSpellingsSchema(40, 30, 500))
	walk := newWriteOnlyWalk(document)

	names := walk.names()
	if len(names) != 0 {
		t.Errorf("names = %v, want none", names)
	}
	// Every object and array is read at most once, so the work grows
	// with the schema and not with properties times refs times items.
	if limit := countContainers(document); walk.examined > limit {
		t.Errorf("walk examined %d objects and arrays, want at most the %d in the schema", walk.examined, limit)
	}
}

func TestWriteOnlyNamesRefSpellings(t *testing.T) {
	schema := strings.Replace(string(refSpellingsSchema(20, 30, 10)), `"enum":[`, `"writeOnly":true,"enum":[`, 1)

	names := writeOnlyNames(decodeSchema(t, []byte(schema)))
	if len(names) != 20 {
		t.Errorf("found %d writeOnly names, want all 20: %v", len(names), names)
	}
}

func TestWriteOnlyNamesEscapedPointer(t *testing.T) {
	schema := `{"properties":{"pin":{"$ref":"#/%24defs/a~1b~0c%20d"},"host":{"$ref":"#/$defs/host"}},` +
		`"$defs":{"a/b~c d":{"writeOnly":true},"host":{"type":"string"}}}`

	names := writeOnlyNames(decodeSchema(t, []byte(schema)))
	if !names["pin"] {
		t.Errorf("names = %v, want pin", names)
	}
	if names["host"] {
		t.Errorf("names = %v, want no host", names)
	}
}

// TestWriteOnlyWalkCycles checks recursive schemas in several walk orders,
// because a node on a cycle must not keep a result that it got
// while the rest of its cycle was still open.
func TestWriteOnlyWalkCycles(t *testing.T) {
	schema := `{"$defs":{` +
		`"a":{"anyOf":[{"$ref":"#/$defs/b"},{"writeOnly":true}]},` +
		`"b":{"items":{"$ref":"#/$defs/a"}},` +
		`"loop":{"anyOf":[{"$ref":"#/$defs/loop2"},{"type":"string"}]},` +
		`"loop2":{"items":[{"$ref":"#/$defs/loop"}]},` +
		`"self":{"additionalProperties":{"$ref":"#"}},` +
		`"toLoop":{"anyOf":[{"$ref":"#/$defs/loop"},{"$ref":"#/$defs/b"}]}}}`
	want := map[string]bool{"a": true, "b": true, "loop": false, "loop2": false, "self": true, "toLoop": true}
	orders := [][]string{
		{"a", "b", "loop", "loop2", "self", "toLoop"},
		{"b", "a", "loop2", "loop", "toLoop", "self"},
		{"toLoop", "loop2", "self", "b", "loop", "a"},
	}

	for _, order := range orders {
		walk := newWriteOnlyWalk(decodeSchema(t, []byte(schema)))
		for _, name := range order {
			node, id, ok := walk.resolveLocal("#/$defs/" + name)
			if !ok {
				t.Fatalf("#/$defs/%s does not resolve", name)
			}
			if got := walk.containsWriteOnly(node, id); got != want[name] {
				t.Errorf("order %v: containsWriteOnly(%s) = %v, want %v", order, name, got, want[name])
			}
		}
		if len(walk.open) != 0 || len(walk.order) != 0 {
			t.Errorf("order %v: %d nodes left open", order, len(walk.open))
		}
	}
}

// BenchmarkBySchemaRefSpellings redacts one config against a schema of
// about 65 KB: 650 properties that each reach 600 spellings of a ref to a
// definition with 10,500 enum values.
func BenchmarkBySchemaRefSpellings(b *testing.B) {
	schema := json.RawMessage(refSpellingsSchema(650, 600, 10500))
	config := json.RawMessage(`{"p0":"a","p1":"b"}`)

	for b.Loop() {
		BySchema(config, schema)
	}
	b.ReportMetric(float64(len(schema)), "schema-bytes")
}
