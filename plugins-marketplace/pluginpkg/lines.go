package pluginpkg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// jsonLines returns the line on which the value at each of paths starts in
// a JSON document. A path names a value as Issue.Field does, such as
// "permissions.allow_hosts[0]", and the document's root has the path "".
// Paths that the document lacks, or that follow its first syntax error, are
// left out. When two values have the same path, as with a duplicate key,
// the map has the line of the last one.
//
// The walk builds no path strings. It narrows the sorted paths one key or
// index at a time, and it counts newlines from the previous value that it
// maps. So at any nesting depth its memory is linear in the document and
// the paths, and its time is linear in the document times log(len(paths)).
func jsonLines(data []byte, paths []string) map[string]int {
	walk := &jsonWalk{
		decoder: json.NewDecoder(bytes.NewReader(data)),
		data:    data,
		targets: newPathSet(paths),
		lines:   newLineCounter(data),
		found:   map[string]int{},
	}
	_ = walk.value(walk.targets.root())
	return walk.found
}

// jsonWalk reads the tokens of a JSON document in order and records the
// line of each value whose path is a target.
type jsonWalk struct {
	decoder *json.Decoder
	data    []byte
	targets pathSet
	lines   lineCounter
	found   map[string]int
}

// value reads the value that span describes, with all values inside it.
func (w *jsonWalk) value(span pathSpan) error {
	target, isTarget := w.targets.match(span)
	start := 0
	if isTarget {
		start = skipSeparators(w.data, int(w.decoder.InputOffset()))
	}
	token, err := w.decoder.Token()
	if err != nil {
		return err
	}
	if isTarget {
		w.found[target] = w.lines.lineAt(start)
	}

	switch token {
	case json.Delim('{'):
		for w.decoder.More() {
			key, err := w.decoder.Token()
			if err != nil {
				return err
			}
			name, _ := key.(string)
			if err := w.value(w.targets.key(span, name)); err != nil {
				return err
			}
		}
		_, err = w.decoder.Token()
	case json.Delim('['):
		for i := 0; w.decoder.More(); i++ {
			if err := w.value(w.targets.index(span, i)); err != nil {
				return err
			}
		}
		_, err = w.decoder.Token()
	}
	return err
}

// pathSet is a sorted set of target paths, whose lines a walk looks up. The
// walk narrows it one path segment at a time, so it compares each key and
// index with the targets instead of building the full path of every value.
type pathSet []string

// pathSpan is the range set[lo:hi] of the target paths that start with the
// path of one value, which is length bytes long. An empty range means that
// neither the value nor anything inside it is a target.
type pathSpan struct {
	lo, hi, length int
}

func newPathSet(paths []string) pathSet {
	sorted := slices.Clone(paths)
	slices.Sort(sorted)
	return slices.Compact(sorted)
}

// root returns the span of the document's root, whose path is "".
func (s pathSet) root() pathSpan {
	return pathSpan{lo: 0, hi: len(s), length: 0}
}

// match returns the target path that equals the path of span's value. It
// sorts first in the span, because it is a prefix of the others.
func (s pathSet) match(span pathSpan) (string, bool) {
	if span.lo < span.hi && len(s[span.lo]) == span.length {
		return s[span.lo], true
	}
	return "", false
}

// key returns the span of the value under an object key. Its path is the
// parent's path, a dot and the key, or the key alone when the parent's path
// is "".
func (s pathSet) key(span pathSpan, key string) pathSpan {
	if span.length > 0 {
		span = s.narrow(span, ".")
	}
	return s.narrow(span, key)
}

// index returns the span of the array element at index i.
func (s pathSet) index(span pathSpan, i int) pathSpan {
	if span.lo == span.hi {
		return span
	}
	return s.narrow(span, "["+strconv.Itoa(i)+"]")
}

// narrow returns the span of the target paths in span that continue with
// segment. Those paths are adjacent, because the paths in span share the
// prefix before span.length and are sorted by what follows it.
func (s pathSet) narrow(span pathSpan, segment string) pathSpan {
	if span.lo == span.hi {
		return span
	}
	candidates := s[span.lo:span.hi]
	next := func(i int) string {
		path := candidates[i]
		return path[span.length:min(len(path), span.length+len(segment))]
	}
	lo := sort.Search(len(candidates), func(i int) bool { return next(i) >= segment })
	hi := sort.Search(len(candidates), func(i int) bool { return next(i) > segment })
	return pathSpan{lo: span.lo + lo, hi: span.lo + hi, length: span.length + len(segment)}
}

// lineCounter returns the lines of byte offsets in a document. It counts
// the newlines since the previous offset, so offsets in increasing order
// cost one pass over the document in all.
type lineCounter struct {
	data   []byte
	offset int
	line   int
}

func newLineCounter(data []byte) lineCounter {
	return lineCounter{data: data, offset: 0, line: 1}
}

// lineAt returns the 1-based line of offset. An offset below the previous
// one counts again from the start.
func (c *lineCounter) lineAt(offset int) int {
	offset = min(max(offset, 0), len(c.data))
	if offset < c.offset {
		c.offset, c.line = 0, 1
	}
	c.line += bytes.Count(c.data[c.offset:offset], []byte("\n"))
	c.offset = offset
	return c.line
}

// skipSeparators moves offset past white space, colons and commas, to the
// first byte of the next token.
func skipSeparators(data []byte, offset int) int {
	for offset < len(data) {
		switch data[offset] {
		case ' ', '\t', '\r', '\n', ':', ',':
			offset++
		default:
			return offset
		}
	}
	return offset
}

// lineAt returns the 1-based line of a byte offset.
func lineAt(data []byte, offset int) int {
	offset = min(max(offset, 0), len(data))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// jsonErrorIssue turns an encoding/json error into an Issue with the line
// of the fault.
func jsonErrorIssue(file string, data []byte, err error) Issue {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return Issue{File: file, Line: lineAt(data, int(syntax.Offset)), Message: "invalid JSON: " + syntax.Error()}
	}

	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		message := fmt.Sprintf("got JSON %s, want %s", typeErr.Value, typeName(typeErr.Type.String()))
		return Issue{File: file, Field: typeErr.Field, Line: lineAt(data, int(typeErr.Offset)), Message: message}
	}
	return Issue{File: file, Message: err.Error()}
}

func typeName(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "int", "int64":
		return "an integer"
	case "bool":
		return "a boolean"
	case "map[string]string":
		return "an object of strings"
	case "[]string":
		return "an array of strings"
	}
	return goType
}

// yamlToJSON converts a YAML document to JSON. It also returns the parsed
// document, for yamlLines.
func yamlToJSON(file string, data []byte) ([]byte, *yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, &ValidationError{Issues: []Issue{{File: file, Message: "invalid YAML: " + err.Error()}}}
	}

	var value any
	if err := root.Decode(&value); err != nil {
		return nil, nil, &ValidationError{Issues: []Issue{{File: file, Message: "invalid YAML: " + err.Error()}}}
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return nil, nil, &ValidationError{Issues: []Issue{{File: file, Message: "YAML has no JSON form (use string keys only): " + err.Error()}}}
	}
	return encoded, &root, nil
}

// yamlLines returns the line of the value at each of paths in a parsed YAML
// document, with the paths and rules of jsonLines. It visits only the nodes
// that lead to one of paths.
func yamlLines(root *yaml.Node, paths []string) map[string]int {
	targets := newPathSet(paths)
	found := map[string]int{}
	walkYAML(root, targets, targets.root(), found)
	return found
}

func walkYAML(node *yaml.Node, targets pathSet, span pathSpan, found map[string]int) {
	if span.lo == span.hi {
		return
	}
	if node.Kind == yaml.DocumentNode {
		for _, child := range node.Content {
			walkYAML(child, targets, span, found)
		}
		return
	}

	if target, ok := targets.match(span); ok {
		found[target] = node.Line
	}
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			walkYAML(node.Content[i+1], targets, targets.key(span, node.Content[i].Value), found)
		}
	case yaml.SequenceNode:
		for i, child := range node.Content {
			walkYAML(child, targets, targets.index(span, i), found)
		}
	}
}
