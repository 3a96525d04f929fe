package worker

import (
	"reflect"
	"strings"
	"testing"
)

func TestBoundLogLineKeepsSmallLine(t *testing.T) {
	fields := map[string]any{"path": "/a", "n": int64(2), "list": []any{"x", 1.5}}

	message, bounded := boundLogLine("seen", fields)

	if message != "seen" {
		t.Errorf("message = %q, want %q", message, "seen")
	}
	if !reflect.DeepEqual(bounded, fields) {
		t.Errorf("fields = %v, want %v unchanged", bounded, fields)
	}
}

func TestBoundLogLineCutsMessage(t *testing.T) {
	// A two-byte character across the limit is not split.
	message := strings.Repeat("m", maxLogLine-1) + "é" + "tail"

	got, _ := boundLogLine(message, nil)

	if len(got) != maxLogLine-1 || strings.ContainsRune(got, 'é') {
		t.Errorf("message of %d bytes, want the %d bytes before the character that crosses the limit", len(got), maxLogLine-1)
	}
}

func TestBoundLogLineCutsFields(t *testing.T) {
	huge := strings.Repeat("v", 2*maxLogLine)
	fields := map[string]any{
		"a":    "first",
		"big":  huge,
		"c":    int64(3),
		"list": []any{huge},
	}

	_, bounded := boundLogLine("m", fields)

	if bounded["a"] != "first" {
		t.Errorf("a = %v, want the field before the limit unchanged", bounded["a"])
	}
	// The budget left for big's value is the limit less "a", "first" and
	// "big".
	if text, _ := bounded["big"].(string); len(text) != maxLogLine-len("a")-len("first")-len("big") {
		t.Errorf("big is %d bytes, want it cut to the rest of the limit", len(text))
	}
	for _, name := range []string{"c", "list"} {
		value, present := bounded[name]
		if !present || value != nil {
			t.Errorf("%s = %v (present %v), want it present with a nil value after the limit", name, value, present)
		}
	}
}

func TestBoundLogLineCutsNonStringField(t *testing.T) {
	fields := map[string]any{"list": []any{strings.Repeat("v", 2*maxLogLine)}, "z": "after"}

	_, bounded := boundLogLine("m", fields)

	if value, present := bounded["list"]; !present || value != nil {
		t.Errorf("list = %v (present %v), want nil for a list that crosses the limit", value, present)
	}
	if value, present := bounded["z"]; !present || value != nil {
		t.Errorf("z = %v (present %v), want it present with a nil value", value, present)
	}
}
