package pluginpkg

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Finding the lines of issues in tests.json and in the manifest must take
// memory linear in the input. A value nested n arrays deep has a path of
// 3n bytes ("[0]" per level), so a lookup that builds the path of every
// value takes about 1.5·n² bytes for one nested array. Built that way,
// ParseVectors allocated 2.07 GB for 260 KB of test vectors made of 13
// arrays nested 9,990 deep, whether or not they were valid.
const deepNesting = 9000

// maxAllocationRatio bounds the bytes that a parse or a line lookup of
// deeply nested input may allocate per input byte. In ParseVectors,
// encoding/json allocates part of it.
const maxAllocationRatio = 200

func TestParseVectorsDeepNestingMemory(t *testing.T) {
	nested := strings.Repeat("[", deepNesting) + strings.Repeat("]", deepNesting)
	inputs := map[string]string{
		"invalid vector": "[" + nested + "]",
		"vector config":  `[{"name":"deep","config":{"a":` + nested + `},"expect":{"status":200}}]`,
		"vector issue":   `[{"name":"","config":{"a":` + nested + `},"expect":{"status":200}}]`,
	}
	for name, input := range inputs {
		t.Run(name, func(t *testing.T) {
			allocated := allocatedBytes(func() {
				_, _ = ParseVectors("test_vectors", []byte(input))
			})
			if limit := uint64(maxAllocationRatio * len(input)); allocated > limit {
				t.Errorf("ParseVectors() of %d bytes allocated %d bytes, want at most %d", len(input), allocated, limit)
			}
		})
	}
}

func TestLinesDeepNestingMemory(t *testing.T) {
	// The outer array starts on line 3, and each "[" starts a line.
	nested := strings.Repeat("[\n", deepNesting) + strings.Repeat("]", deepNesting)
	deepest := "config_schema.a" + strings.Repeat("[0]", deepNesting-1)
	paths := []string{"name", "config_schema.a", deepest}
	want := map[string]int{"name": 1, "config_schema.a": 3, deepest: deepNesting + 2}

	jsonInput := "{\"name\": \"x\",\n\"config_schema\": {\"a\":\n" + nested + "}}"
	yamlInput := "name: x\nconfig_schema: {a:\n" + nested + "}\n"
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(yamlInput), &root); err != nil {
		t.Fatalf("yaml.Unmarshal() error = %v", err)
	}
	lookups := map[string]struct {
		size int
		find func() map[string]int
	}{
		"json": {len(jsonInput), func() map[string]int { return jsonLines([]byte(jsonInput), paths) }},
		"yaml": {len(yamlInput), func() map[string]int { return yamlLines(&root, paths) }},
	}
	for name, lookup := range lookups {
		t.Run(name, func(t *testing.T) {
			var found map[string]int
			allocated := allocatedBytes(func() { found = lookup.find() })
			if limit := uint64(maxAllocationRatio * lookup.size); allocated > limit {
				t.Errorf("line lookup in %d bytes allocated %d bytes, want at most %d", lookup.size, allocated, limit)
			}
			for path, line := range want {
				if found[path] != line {
					t.Errorf("line of %.40s = %d, want %d", path, found[path], line)
				}
			}
		})
	}
}

func TestParseVectorsIssueLines(t *testing.T) {
	deep := strings.Repeat("[\n", 50) + strings.Repeat("]", 50)
	input := "[\n" +
		`  {"name": "a", "config": {"x": ` + deep + "},\n" + // lines 2 to 52
		`   "repeat": 0},` + "\n" + // line 53
		`  {"name": "a",` + "\n" + // line 54
		`   "requires": ["redis",` + "\n" + // line 55
		`     "mysql"],` + "\n" + // line 56
		`   "consumers": [{"name": "c", "keys": ["k", ""]}],` + "\n" + // line 57
		`   "expect": {"status": 1}, "expect": {` + "\n" + // line 58
		`     "status": 600}},` + "\n" + // line 59
		`  {"repeat": -1}` + "\n" + // line 60, without a name
		"]\n"

	_, err := ParseVectors(TestsFile, []byte(input))
	var invalid *ValidationError
	if !errors.As(err, &invalid) {
		t.Fatalf("ParseVectors() error = %v, want a *ValidationError", err)
	}
	want := map[string]int{
		"[1].name":                 54,
		"[1].requires[1]":          56,
		"[1].consumers[0].keys[1]": 57,
		"[1].expect.status":        59, // the second "expect" key counts
		"[2].name":                 0,
		"[2].repeat":               60,
	}
	got := map[string]int{}
	for _, issue := range invalid.Issues {
		got[issue.Field] = issue.Line
	}
	for field, line := range want {
		if got[field] != line {
			t.Errorf("line of %s = %d, want %d", field, got[field], line)
		}
	}
	if len(got) != len(want) {
		t.Errorf("issues = %v, want fields %v", invalid.Issues, want)
	}
}

// allocatedBytes returns the bytes that the heap allocated while run ran.
func allocatedBytes(run func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
