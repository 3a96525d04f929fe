package pluginhost

import (
	"fmt"
	"reflect"

	"github.com/risor-io/risor/ast"
)

// Risor v1.8.1's compiler takes time that grows faster than the source
// for two shapes, so a source within the size limit could keep the portal,
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
//
// checkShape bounds both before the compiler runs. The slowest source
// within the limits that we measured compiles in about 0.25 s
// (BenchmarkCompileWorstShape).
const (
	// MaxNesting caps how deep the syntax tree of a source nests: each
	// statement, block, expression and operand inside another counts one
	// level. The catalogue's plugins nest at most 14 deep.
	MaxNesting = 100
	// MaxTopLevelStatements caps the function definitions and constants
	// at the top level of a source.
	MaxTopLevelStatements = 1000
)

// nodeType is the interface that every Risor syntax tree node implements.
var nodeType = reflect.TypeFor[ast.Node]()

// checkShape rejects a program whose syntax tree nests deeper than
// MaxNesting or that has more than MaxTopLevelStatements at its top level.
func checkShape(program *ast.Program) *CompileError {
	statements := program.Statements()
	if len(statements) > MaxTopLevelStatements {
		return &CompileError{Message: fmt.Sprintf(
			"the source has %d top-level statements, above the limit of %d: "+
				"merge constants or move code into fewer functions", len(statements), MaxTopLevelStatements)}
	}

	for _, statement := range statements {
		if deep := deepestNode(reflect.ValueOf(statement), 0); deep != nil {
			start := deep.Token().StartPosition
			return &CompileError{
				Line:   start.LineNumber(),
				Column: start.ColumnNumber(),
				Message: fmt.Sprintf("the code nests more than %d levels deep here: "+
					"split long chains of operators and deep nesting into shorter expressions or helper functions", MaxNesting),
			}
		}
	}
	return nil
}

// deepestNode walks the syntax tree under v, which sits depth levels deep,
// and returns the first node deeper than MaxNesting, or nil.
// Risor's node types keep their children in unexported fields, which
// reflection can read, so the walk needs no list of node types.
func deepestNode(v reflect.Value, depth int) ast.Node {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if v.Kind() == reflect.Pointer && v.Type().Implements(nodeType) {
			depth++
			if depth > MaxNesting {
				node, _ := reflect.NewAt(v.Type().Elem(), v.UnsafePointer()).Interface().(ast.Node)
				return node
			}
		}
		return deepestNode(v.Elem(), depth)
	case reflect.Struct:
		for i := range v.NumField() {
			if node := deepestNode(v.Field(i), depth); node != nil {
				return node
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if node := deepestNode(v.Index(i), depth); node != nil {
				return node
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if node := deepestNode(iter.Value(), depth); node != nil {
				return node
			}
		}
	}
	return nil
}
