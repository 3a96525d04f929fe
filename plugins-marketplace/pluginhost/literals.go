package pluginhost

import (
	"fmt"
	"strings"

	"github.com/risor-io/risor/token"
)

// Risor v1.8.1's lexer builds a number literal by appending one character
// at a time to a string. Its template parser does the same with a template
// string's text. Both take time that grows with the square of their
// length: 100,000 digits took seconds. The parser also parses a
// template string's expressions apart from the bracket check, so deep
// brackets inside one could overflow the stack. These limits keep both
// costs small in every process that compiles a plugin, the edge and the
// portal included.
const (
	// MaxNumberRun caps a run of the characters a number literal may hold
	// (digits, hex letters and x), anywhere in the source. Any number that
	// Risor can represent is far shorter.
	MaxNumberRun = 4096
	// MaxTemplateBytes caps a template string ('...' in Risor).
	MaxTemplateBytes = 4096
)

// checkNumberRuns rejects source with a run of more than MaxNumberRun
// characters of a number literal. It runs before the lexer, and counts
// runs inside strings and comments too, where a hex dump that long would
// have to be split.
func checkNumberRuns(source string) *CompileError {
	run, line, column := 0, 1, 0
	for i := 0; i < len(source); i++ {
		c := source[i]
		column++
		if c == '\n' {
			line, column = line+1, 0
		}
		if !isNumberChar(c) {
			run = 0
			continue
		}

		run++
		if run > MaxNumberRun {
			return &CompileError{
				Line:   line,
				Column: column - run + 1,
				Message: fmt.Sprintf("a run of more than %d digits or hex letters starts here: "+
					"Risor reads number literals this long slowly, so split the text or the number", MaxNumberRun),
			}
		}
	}
	return nil
}

// isNumberChar reports whether c may appear in a Risor number literal.
func isNumberChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == 'x' || c == 'X'
}

// checkTemplate rejects a template string token longer than
// MaxTemplateBytes or whose brackets nest more than MaxNesting deep.
func checkTemplate(tok token.Token) *CompileError {
	problem := ""
	if len(tok.Literal) > MaxTemplateBytes {
		problem = fmt.Sprintf("the template string is %d bytes, above the limit of %d: "+
			"build long text with + or a double-quoted string", len(tok.Literal), MaxTemplateBytes)
	} else if templateDepth(tok.Literal) > MaxNesting {
		problem = fmt.Sprintf("the template string nests brackets more than %d levels deep: "+
			"compute the value before the template", MaxNesting)
	}
	if problem == "" {
		return nil
	}
	return &CompileError{Line: tok.StartPosition.LineNumber(), Column: tok.StartPosition.ColumnNumber(), Message: problem}
}

// templateDepth returns how deep the brackets of text nest at most. It
// counts brackets inside the strings of the template's expressions too,
// which can only overstate the depth.
func templateDepth(text string) int {
	depth, deepest := 0, 0
	for _, c := range text {
		switch {
		case strings.ContainsRune("({[", c):
			depth++
			deepest = max(deepest, depth)
		case strings.ContainsRune(")}]", c):
			depth--
		}
	}
	return deepest
}
