package pluginhost

import (
	"errors"
	"fmt"

	"github.com/risor-io/risor/ast"
	"github.com/risor-io/risor/compiler"
)

// topLevelRule is the rule that checkTopLevel enforces, as the errors
// state it.
const topLevelRule = "top level may contain only function definitions and assignments of constants " +
	"(string, int, float, bool or nil literals, names defined before, and operators on them), " +
	"because a binding's requests share its top-level values"

// checkTopLevel rejects a top-level statement other than a function
// definition or an assignment of a constant expression to a name. Top-level
// code runs once per VM, and a pooled VM serves many requests of one
// binding, so anything else could keep state between requests. A call
// could return a closure over a variable that each request changes, and a
// list or map could be changed in place by a hook.
func checkTopLevel(program *ast.Program) *CompileError {
	defined := map[string]int{}
	for _, statement := range program.Statements() {
		position := statement.Token().StartPosition
		if problem := topLevelProblem(statement); problem != "" {
			return &CompileError{
				Line:    position.LineNumber(),
				Column:  position.ColumnNumber(),
				Message: fmt.Sprintf("%s is not allowed at top level: %s. Compute other values inside the hooks", problem, topLevelRule),
			}
		}

		name := definedName(statement)
		if first, found := defined[name]; found && name != "" {
			return &CompileError{
				Line:    position.LineNumber(),
				Column:  position.ColumnNumber(),
				Message: fmt.Sprintf("%q is defined a second time, first on line %d: rename or remove one of them", name, first),
			}
		}
		defined[name] = position.LineNumber()
	}
	return nil
}

// definedName returns the name that a top-level function definition or a
// declaration with := or const creates, or "" for another statement.
// Risor rejects a second declaration of a name, without its line.
func definedName(statement ast.Node) string {
	switch statement := statement.(type) {
	case *ast.Func:
		if statement.Name() != nil {
			return statement.Name().Literal()
		}
	case *ast.Var:
		name, _ := statement.Value()
		return name
	case *ast.Const:
		name, _ := statement.Value()
		return name
	}
	return ""
}

// topLevelProblem describes what makes statement invalid at top level, or
// returns "" for a valid one.
func topLevelProblem(statement ast.Node) string {
	switch statement := statement.(type) {
	case *ast.Func:
		return ""
	case *ast.Var:
		name, value := statement.Value()
		return assignedProblem(name, value)
	case *ast.Const:
		name, value := statement.Value()
		return assignedProblem(name, value)
	case *ast.Assign:
		if statement.Index() != nil {
			return fmt.Sprintf("an assignment to %s", statement.Index())
		}
		if statement.Operator() != "=" {
			return fmt.Sprintf("the compound assignment %q", statement.Operator())
		}
		return assignedProblem(statement.Name(), statement.Value())
	case *ast.MultiVar:
		return "an assignment to several names"
	}
	return describeNode(statement)
}

// assignedProblem describes what makes value invalid as the value of the
// top-level variable name, or returns "" for a constant or a function.
func assignedProblem(name string, value ast.Expression) string {
	if _, ok := value.(*ast.Func); ok {
		return ""
	}
	if isConstantExpression(value) {
		return ""
	}
	return fmt.Sprintf("assigning %s to %q", describeNode(value), name)
}

// isConstantExpression reports whether expr is a scalar literal, a name,
// or a prefix or infix operator applied to constant expressions. A name
// at top level is a global, and every global is a builtin, a function or
// a constant, because every top-level assignment passed this check. So
// no hook can change the value of a constant expression.
func isConstantExpression(expr ast.Expression) bool {
	switch expr := expr.(type) {
	case *ast.Int, *ast.Float, *ast.Bool, *ast.Nil, *ast.Ident:
		return true
	case *ast.String:
		// A template string such as 'id {f()}' runs the code inside it.
		return len(expr.TemplateExpressions()) == 0
	case *ast.Prefix:
		return isConstantExpression(expr.Right())
	case *ast.Infix:
		return isConstantExpression(expr.Left()) && isConstantExpression(expr.Right())
	}
	return false
}

// describeNode names the kind of a statement or expression for errors.
func describeNode(node ast.Node) string {
	switch node := node.(type) {
	case *ast.Call, *ast.ObjectCall, *ast.Pipe:
		return "a call"
	case *ast.List:
		return "a list"
	case *ast.Map:
		return "a map"
	case *ast.Set:
		return "a set"
	case *ast.String:
		return "a template string with expressions"
	case *ast.If, *ast.Switch, *ast.Ternary:
		return "a conditional"
	case *ast.For, *ast.Range:
		return "a loop"
	case *ast.Import, *ast.FromImport:
		return "an import"
	case *ast.Go, *ast.Defer:
		return fmt.Sprintf("a %q statement", node.Literal())
	}
	return fmt.Sprintf("the expression %s", node)
}

// topLevelError reports top-level code that failed when it ran, such as an
// operator applied to a string and an int. line and column are those of
// the statement that failed, and both are 0 when it is unknown.
type topLevelError struct {
	message string
	// ip is the VM's instruction pointer after the failure. It points
	// just past the instruction that failed.
	ip     int
	line   int
	column int
}

// Error formats the error as "line 3, column 1: run top-level code:
// message", or without the position when it is unknown.
func (e *topLevelError) Error() string {
	if e.line == 0 {
		return "run top-level code: " + e.message
	}
	return fmt.Sprintf("line %d, column %d: run top-level code: %s", e.line, e.column, e.message)
}

// locateTopLevelError gives a *topLevelError in err the position of the
// statement of program that failed, where code is the compiled program.
// It leaves the error as it is when it cannot tell the statement.
func locateTopLevelError(err error, program *ast.Program, code *compiler.Code) {
	var runErr *topLevelError
	if !errors.As(err, &runErr) || runErr.ip <= 0 {
		return
	}
	statement := statementAt(program, code, runErr.ip-1)
	if statement == nil {
		return
	}
	position := statement.Token().StartPosition
	runErr.line, runErr.column = position.LineNumber(), position.ColumnNumber()
}

// statementAt returns the top-level statement of program whose
// instructions in code include the one at index, or nil when it cannot
// tell. Risor's compiled code keeps no source positions, so statementAt
// compiles the statements again one at a time, in the order in which the
// compiler compiles a whole program, and counts the instructions of each.
// It returns nil when the counts do not add up to the instructions of
// code, which would mean that the compiler lays out a program another way.
func statementAt(program *ast.Program, code *compiler.Code, index int) ast.Node {
	c, err := compiler.New(sandboxCompilerOptions()...)
	if err != nil {
		return nil
	}

	var found ast.Node
	statements := program.Statements()
	// Between statements the compiler adds a PopTop after each expression
	// other than the last statement. Those PopTops are not in the counts
	// of the statement-by-statement compile.
	popTops, end := 0, 0
	for i, statement := range statements {
		partial, err := c.Compile(statement)
		if err != nil {
			return nil
		}
		if i < len(statements)-1 && statement.IsExpression() {
			popTops++
		}
		end = partial.InstructionCount() + popTops
		if found == nil && index < end {
			found = statement
		}
	}

	// A program whose last statement is not an expression ends with a Nil,
	// so that it has a value.
	if len(statements) == 0 || !statements[len(statements)-1].IsExpression() {
		end++
	}
	if end != code.InstructionCount() {
		return nil
	}
	return found
}
