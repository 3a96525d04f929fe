package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// InvalidJSON returns the field error for text that does not parse as one
// JSON value. The message names the line and column of the first problem,
// both counted from 1 and the column in characters, and describes it in its
// own words so that it can be translated. err is the parser's error, which
// the message quotes only when no problem position can be found.
func InvalidJSON(field string, text []byte, err error) error {
	syntax := findSyntaxProblem(text)
	line, column := textPosition(text, syntax.offset)

	switch syntax.kind {
	case syntaxUnexpected:
		return fieldError(field, "not valid JSON: unexpected %q at line %d, column %d: check the quotes, commas and brackets up to there", syntax.char, line, column)
	case syntaxTruncated:
		return fieldError(field, "not valid JSON: the text ends at line %d, column %d before the value is complete: close every open string, array and object", line, column)
	case syntaxTrailing:
		return fieldError(field, "not valid JSON: more text follows the value at line %d, column %d: keep one JSON value and remove the rest", line, column)
	}
	return fieldError(field, "not valid JSON: %v", err)
}

// Kinds of syntax problem that findSyntaxProblem distinguishes.
const (
	syntaxNone = iota
	syntaxUnexpected
	syntaxTruncated
	syntaxTrailing
)

// syntaxProblem is the first problem in a JSON text: its kind, the byte
// offset where it starts and, for an unexpected character, the character.
type syntaxProblem struct {
	kind   int
	offset int
	char   rune
}

// findSyntaxProblem decodes text as one JSON value and locates the first
// problem. It decodes on its own, rather than reading the caller's error,
// because json.Decoder reports a truncated text as io.ErrUnexpectedEOF while
// json.Compact and json.Unmarshal report it as a *json.SyntaxError.
func findSyntaxProblem(text []byte) syntaxProblem {
	decoder := json.NewDecoder(bytes.NewReader(text))
	var value any
	err := decoder.Decode(&value)

	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &syntaxErr) && syntaxErr.Offset > 0 && int(syntaxErr.Offset) <= len(text):
		// Offset counts the bytes read, the unexpected one included.
		start := int(syntaxErr.Offset) - 1
		char, _ := utf8.DecodeRune(text[start:])
		return syntaxProblem{kind: syntaxUnexpected, offset: start, char: char}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return syntaxProblem{kind: syntaxTruncated, offset: len(bytes.TrimRight(text, " \t\r\n"))}
	case err != nil:
		return syntaxProblem{kind: syntaxNone}
	}

	end := int(decoder.InputOffset())
	rest := bytes.TrimLeft(text[end:], " \t\r\n")
	if len(rest) == 0 {
		return syntaxProblem{kind: syntaxNone}
	}
	return syntaxProblem{kind: syntaxTrailing, offset: len(text) - len(rest)}
}

// textPosition returns the line and column of the byte at offset, both
// from 1, with the column counted in characters.
func textPosition(text []byte, offset int) (line, column int) {
	before := text[:min(offset, len(text))]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	line = bytes.Count(before, []byte{'\n'}) + 1
	column = utf8.RuneCount(before[lineStart:]) + 1
	return line, column
}
