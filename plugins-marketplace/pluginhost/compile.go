package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/risor-io/risor/ast"
	"github.com/risor-io/risor/compiler"
	"github.com/risor-io/risor/lexer"
	"github.com/risor-io/risor/parser"
	"github.com/risor-io/risor/token"
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
// top-level code that fails, with the line and column of the statement
// that failed, or that runs longer than one second, source that
// defines none of the phase functions, and a phase name bound to anything
// but a function that accepts (ctx, conf). No error names the plugin, so callers add its name and
// version where the context does not give them.
func Compile(name, version, source string) (*Plugin, error) {
	if name == "" {
		return nil, errors.New("compile plugin: name is empty")
	}

	compiled, cerr := compileSource(source)
	if cerr != nil {
		return nil, cerr
	}
	program, code := compiled.program, compiled.code
	if err := checkNoGlobalWrites(code); err != nil {
		return nil, err
	}
	p := &Plugin{name: name, version: version, code: code}

	pvm, err := newPreparedVM(context.Background(), p)
	if err != nil {
		locateTopLevelError(err, program, code)
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
		if hook != nil {
			p.static[i] = compiled.static[i]
		}
	}
	if p.hasHook == [phaseCount]bool{} {
		return nil, fmt.Errorf("the source defines none of the phase functions %q", phaseOrder)
	}
	return p, nil
}

// compileSource parses source, checks its top-level statements
// (checkTopLevel), its nesting and its count of top-level statements
// (checkShape) and that it has no go or import statement
// (checkForbiddenKeywords), and compiles it against the sandbox's globals.
// It returns the parsed program with its code.
func compileSource(source string) (*compiledSource, *CompileError) {
	if cerr := checkNumberRuns(source); cerr != nil {
		return nil, cerr
	}
	if cerr := checkBracketDepth(source); cerr != nil {
		return nil, cerr
	}
	program, err := parser.Parse(context.Background(), source)
	if err != nil {
		return nil, parseError(err)
	}
	if cerr := checkTopLevel(program); cerr != nil {
		return nil, cerr
	}
	if cerr := checkShape(program); cerr != nil {
		return nil, cerr
	}
	if cerr := checkForbiddenKeywords(source); cerr != nil {
		return nil, cerr
	}

	// The compiler rewrites each function body's last statement into a
	// return, so the static hooks are read before it runs.
	static := staticHooks(program)
	code, err := compiler.Compile(program, sandboxCompilerOptions()...)
	if err != nil {
		return nil, compilerError(err)
	}
	return &compiledSource{program: program, code: code, static: static}, nil
}

// compiledSource is a plugin source after compileSource: its syntax tree,
// its code and the steps of its static hooks.
type compiledSource struct {
	program *ast.Program
	code    *compiler.Code
	static  [phaseCount][]staticStep
}

// forbiddenKeywords maps the keywords that start a statement the sandbox
// cannot run to the error that rejects it. The sandbox gives scripts no
// spawn function and no importer, so Risor v1.8.1 compiles these
// statements (into GO, IMPORT and FROM_IMPORT instructions), and a hook would fail
// only when it reached one.
var forbiddenKeywords = map[token.Type]string{
	token.GO: "a go statement is not allowed: plugins cannot start goroutines, " +
		"because a hook's work must end with the hook. Call the function directly",
	token.IMPORT: "an import is not allowed: plugins have no modules to import. " +
		"Use the host API (ctx and the functions that docs/plugins.md lists)",
	token.FROM: "an import is not allowed: plugins have no modules to import. " +
		"Use the host API (ctx and the functions that docs/plugins.md lists)",
}

// checkForbiddenKeywords rejects a go or import statement anywhere in
// source, which has parsed. A keyword's token cannot be part of a name or a
// string, so each one starts such a statement.
func checkForbiddenKeywords(source string) *CompileError {
	tokens := lexer.New(source)
	for {
		tok, err := tokens.Next()
		if err != nil || tok.Type == token.EOF {
			return nil
		}
		if message, found := forbiddenKeywords[tok.Type]; found {
			return &CompileError{
				Line:    tok.StartPosition.LineNumber(),
				Column:  tok.StartPosition.ColumnNumber(),
				Message: message,
			}
		}
	}
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
