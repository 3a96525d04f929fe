package pluginpkg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// jsonLines maps the path of each value in a JSON document, such as
// "permissions.allow_hosts[0]", to the line on which the value starts. The
// document's root has the path "". It returns what it mapped before the
// first syntax error.
func jsonLines(data []byte) map[string]int {
	lines := map[string]int{}
	decoder := json.NewDecoder(bytes.NewReader(data))
	_ = walkJSON(decoder, data, "", lines)
	return lines
}

func walkJSON(decoder *json.Decoder, data []byte, path string, lines map[string]int) error {
	start := skipSeparators(data, int(decoder.InputOffset()))
	token, err := decoder.Token()
	if err != nil {
		return err
	}
	lines[path] = lineAt(data, start)

	switch token {
	case json.Delim('{'):
		for decoder.More() {
			key, err := decoder.Token()
			if err != nil {
				return err
			}
			name, _ := key.(string)
			if err := walkJSON(decoder, data, joinPath(path, name), lines); err != nil {
				return err
			}
		}
		_, err = decoder.Token()
	case json.Delim('['):
		for i := 0; decoder.More(); i++ {
			if err := walkJSON(decoder, data, path+"["+strconv.Itoa(i)+"]", lines); err != nil {
				return err
			}
		}
		_, err = decoder.Token()
	}
	return err
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

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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

// yamlToJSON converts a YAML document to JSON and maps the path of each
// value to its line, as jsonLines does.
func yamlToJSON(file string, data []byte) ([]byte, map[string]int, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, &ValidationError{Issues: []Issue{{File: file, Message: "invalid YAML: " + err.Error()}}}
	}

	lines := map[string]int{}
	walkYAML(&root, "", lines)

	var value any
	if err := root.Decode(&value); err != nil {
		return nil, nil, &ValidationError{Issues: []Issue{{File: file, Message: "invalid YAML: " + err.Error()}}}
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return nil, nil, &ValidationError{Issues: []Issue{{File: file, Message: "YAML has no JSON form (use string keys only): " + err.Error()}}}
	}
	return encoded, lines, nil
}

func walkYAML(node *yaml.Node, path string, lines map[string]int) {
	if node.Kind == yaml.DocumentNode {
		for _, child := range node.Content {
			walkYAML(child, path, lines)
		}
		return
	}

	lines[path] = node.Line
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			walkYAML(node.Content[i+1], joinPath(path, node.Content[i].Value), lines)
		}
	case yaml.SequenceNode:
		for i, child := range node.Content {
			walkYAML(child, path+"["+strconv.Itoa(i)+"]", lines)
		}
	}
}
