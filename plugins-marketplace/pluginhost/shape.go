package pluginhost

import (
	"fmt"
	"reflect"

	"github.com/risor-io/risor/ast"
	"github.com/risor-io/risor/lexer"
	"github.com/risor-io/risor/token"
)

// Risor v1.8.1's compiler takes time that grows faster than the source
// for three shapes, so a source within the size limit could keep the portal,
// every edge and every worker compiling for seconds to minutes:
//
//   - It prints the body of every function back to text, and a node's text
//     copies the text of all the nodes inside it, so the work grows with
//     the source's size times its nesting depth. A sum of n terms
//     (`1 + 1 + ... + 1`) nests n deep: each doubling of n takes four times
//     as long (BenchmarkRisorCompileDeepSum), and 64 KiB of it took 4.8 s.
//   - It appends the text of each top-level statement to all the text
//     before it, so the work grows with the number of top-level statements
//     times the source's size.
//   - It compiles the target of a compound assignment to an index or an
//     attribute (`x[k] += v`, `x.a += v`) twice, once to load and once to
//     store. A function literal in the target can hold another such
//     assignment, so each level doubles the work: 16 levels in 349 bytes
//     took 1.5 s and 394 MB.
//
// checkShape bounds the first two, also by the depth of nested functions,
// and rejects the third before the compiler runs. The slowest source
// within the limits that we measured compiles in about 0.6 s
// (BenchmarkCompileWorstShape), and checkBracketDepth keeps the parser's
// recursion within the same depth.
const (
	// MaxNesting caps how deep the syntax tree of a source nests: each
	// statement, block, expression and operand inside another counts one
	// level. The catalogue's plugins nest at most 14 deep.
	MaxNesting = 100
	// MaxFunctionNesting caps how deep function literals nest, counting
	// the top-level function, because the compiler prints a function's
	// body once for each function around it.
	MaxFunctionNesting = 4
	// MaxTopLevelStatements caps the function definitions and constants
	// at the top level of a source.
	MaxTopLevelStatements = 1000
)

// nodeType is the interface that every Risor syntax tree node implements.
var nodeType = reflect.TypeFor[ast.Node]()

// checkShape rejects a program whose syntax tree nests deeper than
// MaxNesting, whose functions nest deeper than MaxFunctionNesting, that
// defines a function in the target of a compound assignment, or that has
// more than MaxTopLevelStatements at its top level.
func checkShape(program *ast.Program) *CompileError {
	statements := program.Statements()
	if len(statements) > MaxTopLevelStatements {
		return &CompileError{Message: fmt.Sprintf(
			"the source has %d top-level statements, above the limit of %d: "+
				"merge constants or move code into fewer functions", len(statements), MaxTopLevelStatements)}
	}

	for _, statement := range statements {
		if deep, functions := deepestNode(reflect.ValueOf(statement)); deep != nil {
			start := deep.Token().StartPosition
			message := fmt.Sprintf("the code nests more than %d levels deep here: "+
				"split long chains of operators and deep nesting into shorter expressions or helper functions", MaxNesting)
			if functions {
				message = fmt.Sprintf("functions nest more than %d deep here, counting the top-level function: "+
					"define the inner functions at the top level instead", MaxFunctionNesting)
			}
			return &CompileError{Line: start.LineNumber(), Column: start.ColumnNumber(), Message: message}
		}
		// The tree under the statement is at most MaxNesting deep now,
		// which bounds the recursion of the next walk.
		if cerr := checkCompoundTargets(reflect.ValueOf(statement)); cerr != nil {
			return cerr
		}
	}
	return nil
}

// deepestNode returns the first node under v deeper than MaxNesting, or
// the first function literal deeper than MaxFunctionNesting with functions
// set, or nil.
func deepestNode(v reflect.Value) (deep ast.Node, functions bool) {
	walkNodes(v, func(node ast.Node, at nodeDepth) bool {
		if at.nodes > MaxNesting || at.funcs > MaxFunctionNesting {
			deep, functions = node, at.nodes <= MaxNesting
		}
		return deep == nil
	})
	return deep, functions
}

// funcType is the syntax tree node of a function literal.
var funcType = reflect.TypeFor[*ast.Func]()

// checkCompoundTargets rejects the first compound assignment under v whose
// target contains a function literal, with its line and column. A target
// is checked once for each compound assignment above it in the tree, and
// the outermost one is found first.
func checkCompoundTargets(v reflect.Value) *CompileError {
	var found ast.Node
	walkNodes(v, func(node ast.Node, _ nodeDepth) bool {
		if target := compoundTarget(node); target != nil && containsFunc(reflect.ValueOf(target)) {
			found = node
		}
		return found == nil
	})
	if found == nil {
		return nil
	}

	start := found.Token().StartPosition
	return &CompileError{
		Line:   start.LineNumber(),
		Column: start.ColumnNumber(),
		Message: "a compound assignment such as += may not define a function inside its target: " +
			"assign the function or its result to a variable first",
	}
}

// compoundTarget returns the target of node when node is a compound
// assignment to an index or an attribute, and nil otherwise.
func compoundTarget(node ast.Node) ast.Node {
	switch n := node.(type) {
	case *ast.Assign:
		if n.Operator() != "=" && n.Index() != nil {
			return n.Index()
		}
	case *ast.SetAttr:
		if n.Token().Literal != "=" {
			return n.Object()
		}
	}
	return nil
}

// containsFunc reports whether the tree under v holds a function literal.
func containsFunc(v reflect.Value) bool {
	found := false
	walkNodes(v, func(node ast.Node, _ nodeDepth) bool {
		found = reflect.TypeOf(node) == funcType
		return !found
	})
	return found
}

// nodeDepth is the depth of a node: the count of nodes on its path from
// the walk's start, itself included, and of function literals among them.
type nodeDepth struct {
	nodes, funcs int
}

// walkNodes calls visit for each syntax tree node under v with its depth,
// parents before their children, until visit returns false. Risor's node
// types keep their children in unexported fields, which reflection can
// read, so the walk needs no list of node types.
func walkNodes(v reflect.Value, visit func(ast.Node, nodeDepth) bool) bool {
	return walkFrom(v, nodeDepth{}, visit)
}

func walkFrom(v reflect.Value, at nodeDepth, visit func(ast.Node, nodeDepth) bool) bool {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return true
		}
		if v.Kind() == reflect.Pointer && v.Type().Implements(nodeType) {
			at.nodes++
			if v.Type() == funcType {
				at.funcs++
			}
			node, _ := reflect.NewAt(v.Type().Elem(), v.UnsafePointer()).Interface().(ast.Node)
			if !visit(node, at) {
				return false
			}
		}
		return walkFrom(v.Elem(), at, visit)
	case reflect.Struct:
		for i := range v.NumField() {
			if !walkFrom(v.Field(i), at, visit) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if !walkFrom(v.Index(i), at, visit) {
				return false
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if !walkFrom(iter.Value(), at, visit) {
				return false
			}
		}
	}
	return true
}

// checkBracketDepth rejects source whose brackets nest, or whose prefix
// operators repeat, more than MaxNesting deep, before the parser meets it.
// Risor's parser recurses once per level, so 256 KiB of "{" took over a
// second and about 1 GB of stack. It also checks each template string
// (checkTemplate), whose expressions the parser parses apart. Source that
// does not lex is left to the parser, which reports the error.
func checkBracketDepth(source string) *CompileError {
	tokens := lexer.New(source)
	depth, prefixes := 0, 0
	for {
		tok, err := tokens.Next()
		if err != nil || tok.Type == token.EOF {
			return nil
		}

		switch tok.Type {
		case token.FSTRING:
			if cerr := checkTemplate(tok); cerr != nil {
				return cerr
			}
		case token.LPAREN, token.LBRACE, token.LBRACKET:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACKET:
			depth--
		}
		prefixes++
		if tok.Type != token.BANG && tok.Type != token.MINUS {
			prefixes = 0
		}
		if depth > MaxNesting || prefixes > MaxNesting {
			return &CompileError{
				Line:    tok.StartPosition.LineNumber(),
				Column:  tok.StartPosition.ColumnNumber(),
				Message: fmt.Sprintf("the code nests more than %d levels deep here: split deep nesting into helper functions", MaxNesting),
			}
		}
	}
}
