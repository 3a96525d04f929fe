package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/risor-io/risor/compiler"
	"github.com/risor-io/risor/parser"
)

// CompileError reports Risor source that does not parse or compile. Line and
// Column start at 1, and both are 0 when Risor gave no position.
type CompileError struct {
	Line    int
	Column  int
	Message string
}

// Error formats the error as "line 3, column 5: message".
func (e *CompileError) Error() string {
	if e.Line == 0 {
		return e.Message
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Compile parses and compiles one plugin version, runs its top-level code
// once, and checks its phase functions. It returns a *CompileError when the
// source does not compile or has a top-level statement other than a
// function definition or a constant (checkTopLevel). Other errors report
// top-level code that fails or runs longer than one second, source that
// defines none of the phase functions, and a phase name bound to anything
// but a function that accepts (ctx, conf). No error names the plugin, so callers add its name and
// version where the context does not give them.
func Compile(name, version, source string) (*Plugin, error) {
	if name == "" {
		return nil, errors.New("compile plugin: name is empty")
	}

	code, cerr := compileSource(source)
	if cerr != nil {
		return nil, cerr
	}
	if err := checkNoGlobalWrites(code); err != nil {
		return nil, err
	}
	p := &Plugin{name: name, version: version, code: code}

	pvm, err := newPreparedVM(context.Background(), p)
	if err != nil {
		return nil, err
	}
	globalsErr := checkImmutableGlobals(pvm.machine)
	pvm.retire()
	if globalsErr != nil {
		return nil, globalsErr
	}

	for i, hook := range pvm.hooks {
		p.hasHook[i] = hook != nil
		p.readsConf[i] = hook != nil && hookReadsConf(code, hook)
	}
	if p.hasHook == [phaseCount]bool{} {
		return nil, fmt.Errorf("the source defines none of the phase functions %q", phaseOrder)
	}
	return p, nil
}

// compileSource parses source, checks its top-level statements
// (checkTopLevel), and compiles it against the sandbox's globals.
func compileSource(source string) (*compiler.Code, *CompileError) {
	program, err := parser.Parse(context.Background(), source)
	if err != nil {
		return nil, parseError(err)
	}
	if cerr := checkTopLevel(program); cerr != nil {
		return nil, cerr
	}

	code, err := compiler.Compile(program, sandboxCompilerOptions()...)
	if err != nil {
		return nil, compilerError(err)
	}
	return code, nil
}

func parseError(err error) *CompileError {
	var parseErr parser.ParserError
	if !errors.As(err, &parseErr) {
		return &CompileError{Message: err.Error()}
	}

	message := parseErr.Message()
	if message == "" {
		message = parseErr.Error()
	}
	start := parseErr.StartPosition()
	return &CompileError{Line: start.LineNumber(), Column: start.ColumnNumber(), Message: message}
}

// compilerLocation matches the end of Risor v1.8.1 compiler errors, which
// carry their position in the text only, as in
// "compile error: undefined variable \"x\"\n\nlocation: unknown:2:3 (line 2, column 3)".
var compilerLocation = regexp.MustCompile(`\(line (\d+), column (\d+)\)$`)

func compilerError(err error) *CompileError {
	text := strings.TrimPrefix(err.Error(), "compile error: ")
	message, location, found := strings.Cut(text, "\n\nlocation: ")
	cerr := &CompileError{Message: message}
	if !found {
		return cerr
	}

	match := compilerLocation.FindStringSubmatch(location)
	if match == nil {
		return cerr
	}
	cerr.Line, _ = strconv.Atoi(match[1])
	cerr.Column, _ = strconv.Atoi(match[2])
	return cerr
}
