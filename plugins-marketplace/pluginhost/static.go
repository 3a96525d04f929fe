package pluginhost

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/risor-io/risor/ast"
	"github.com/risor-io/risor/object"
)

// A static hook is a hook whose body only sets and deletes headers, with
// names and values built from string literals, conf["key"], conf.key and
// +. Given a binding's config, such a hook makes the same changes on every
// call, so Bind works them out once and Run applies them without a VM:
// about a quarter of the cost of a call into Risor (BenchmarkStaticHook).
// Any other hook, or a config value that is not a string, runs in the VM.
// A plugin worker reports the changes (Instance.StaticChanges), so the
// edge applies them with ApplyHeaderChanges instead of calling it.
//
// When a change fails, as a header above MaxHeaderBytes does,
// ApplyHeaderChanges restores the headers as they were, and Run runs the
// hook in the VM, which raises the error in the same words.

// staticStep is one call of a static hook: set_header or del_header on
// ctx.req or ctx.resp, with arguments still to be evaluated.
type staticStep struct {
	method string
	side   headerSide
	del    bool
	args   []staticString
}

// staticString is a string expression of a static hook: the concatenation
// of its parts.
type staticString []staticPart

// staticPart is a string literal, or conf[confKey] when fromConf is set.
type staticPart struct {
	literal  string
	confKey  string
	fromConf bool
}

// HeaderChange is one call of a static hook with its arguments evaluated
// for a binding: set_header(Name, Value), or del_header(Name) when Delete
// is set, on the response header when Response is set and else on the
// request header.
type HeaderChange struct {
	Response bool
	Delete   bool
	Name     string
	Value    string

	// key and values are set by PrepareHeaderChanges on a change that
	// passes set_header's checks of a single field: the canonical name and
	// the value as the header map holds it. Header maps share values, so
	// code that reads an Exchange's headers must replace a field's values,
	// never write into them.
	key    string
	values []string
}

// PrepareHeaderChanges checks each change once, as set_header checks a
// name and value, so ApplyHeaderChanges skips those checks on every call.
// A change that fails a check stays unprepared and fails in
// ApplyHeaderChanges.
func PrepareHeaderChanges(changes []HeaderChange) {
	for i := range changes {
		change := &changes[i]
		change.key, change.values = "", nil
		key := textproto.CanonicalMIMEHeaderKey(change.Name)
		if change.Delete {
			change.key = key
			continue
		}
		if fieldError(change.method(), change.side(), key, change.Name, change.Value) == nil {
			change.key = key
			change.values = []string{change.Value}
		}
	}
}

// side returns the header that c changes.
func (c *HeaderChange) side() headerSide {
	if c.Response {
		return responseHeader
	}
	return requestHeader
}

// method returns the name of the host method that c is a call of.
func (c *HeaderChange) method() string {
	switch {
	case c.Response && c.Delete:
		return "ctx.resp.del_header"
	case c.Response:
		return "ctx.resp.set_header"
	case c.Delete:
		return "ctx.req.del_header"
	}
	return "ctx.req.set_header"
}

// staticHooks returns the steps of the hook for each phase of phaseOrder
// that program defines as a static hook, and nil for every other phase.
func staticHooks(program *ast.Program) [phaseCount][]staticStep {
	var hooks [phaseCount][]staticStep
	for _, statement := range program.Statements() {
		fn, ok := statement.(*ast.Func)
		if !ok || fn.Name() == nil {
			continue
		}
		idx, err := phaseIndex(Phase(fn.Name().Literal()))
		if err != nil {
			continue
		}
		hooks[idx] = staticBody(fn)
	}
	return hooks
}

// staticBody returns the steps of fn's body, or nil when fn is not a
// static hook. An empty body gives an empty, non-nil list.
func staticBody(fn *ast.Func) []staticStep {
	params := fn.ParameterNames()
	if len(params) != 2 || params[0] == params[1] || len(fn.Defaults()) != 0 {
		return nil
	}

	steps := []staticStep{}
	for _, statement := range fn.Body().Statements() {
		// A hook's result is unused, and Risor compiles nothing after a
		// return.
		ret, isReturn := statement.(*ast.Return)
		if isReturn {
			statement = ret.Value()
		}
		step, ok := staticStatement(statement, params[0], params[1])
		if !ok {
			return nil
		}
		steps = append(steps, step)
		if isReturn {
			break
		}
	}
	return steps
}

// staticStatement parses statement as ctx.req or ctx.resp .set_header(a,
// b) or .del_header(a), where ctxName and confName are the hook's
// parameters.
func staticStatement(statement ast.Node, ctxName, confName string) (staticStep, bool) {
	call, ok := statement.(*ast.ObjectCall)
	if !ok {
		return staticStep{}, false
	}
	target, ok := call.Object().(*ast.GetAttr)
	if !ok || !isIdent(target.Object(), ctxName) {
		return staticStep{}, false
	}
	method, ok := call.Call().(*ast.Call)
	if !ok {
		return staticStep{}, false
	}
	name, ok := method.Function().(*ast.Ident)
	if !ok {
		return staticStep{}, false
	}

	step, ok := staticMethod(target.Name(), name.Literal())
	if !ok {
		return staticStep{}, false
	}
	want := 2
	if step.del {
		want = 1
	}
	if len(method.Arguments()) != want {
		return staticStep{}, false
	}
	for _, argument := range method.Arguments() {
		value, ok := staticExpression(argument, confName)
		if !ok {
			return staticStep{}, false
		}
		step.args = append(step.args, value)
	}
	return step, true
}

// staticMethod returns the step for method of ctx.<object>, if it is one
// that a static hook may call.
func staticMethod(object, method string) (staticStep, bool) {
	var side headerSide
	switch object {
	case "req":
		side = requestHeader
	case "resp":
		side = responseHeader
	default:
		return staticStep{}, false
	}
	if method != "set_header" && method != "del_header" {
		return staticStep{}, false
	}
	return staticStep{method: "ctx." + object + "." + method, side: side, del: method == "del_header"}, true
}

// mapMethods are the attributes that a Risor v1.8.1 map resolves to its
// methods before its keys, so conf.keys is a method, not conf["keys"].
var mapMethods = map[string]bool{
	"keys": true, "values": true, "get": true, "clear": true, "copy": true,
	"items": true, "pop": true, "setdefault": true, "update": true,
}

// staticExpression parses node as a string literal, conf["key"], conf.key,
// or a sum of those.
func staticExpression(node ast.Node, confName string) (staticString, bool) {
	switch node := node.(type) {
	case *ast.String:
		if !isPlainString(node) {
			return nil, false
		}
		return staticString{{literal: node.Value()}}, true
	case *ast.Index:
		key, ok := node.Index().(*ast.String)
		if !ok || !isPlainString(key) || !isIdent(node.Left(), confName) {
			return nil, false
		}
		return staticString{{confKey: key.Value(), fromConf: true}}, true
	case *ast.GetAttr:
		if !isIdent(node.Object(), confName) || mapMethods[node.Name()] {
			return nil, false
		}
		return staticString{{confKey: node.Name(), fromConf: true}}, true
	case *ast.Infix:
		if node.Operator() != "+" {
			return nil, false
		}
		left, ok := staticExpression(node.Left(), confName)
		if !ok {
			return nil, false
		}
		right, ok := staticExpression(node.Right(), confName)
		if !ok {
			return nil, false
		}
		return append(left, right...), true
	}
	return nil, false
}

// isPlainString reports whether s is a string literal without template
// expressions.
func isPlainString(s *ast.String) bool {
	return s.Template() == nil && len(s.TemplateExpressions()) == 0
}

// isIdent reports whether node is the identifier name.
func isIdent(node ast.Node, name string) bool {
	ident, ok := node.(*ast.Ident)
	return ok && ident.Literal() == name
}

// maxStaticBytes caps the arguments of a static hook's calls together.
// An argument above MaxHeaderField fails set_header, and more than
// MaxHeaderBytes of them would mostly fail too, so a hook above either
// runs in the VM instead of keeping them.
const maxStaticBytes = MaxHeaderBytes

// bindStatic evaluates steps for config. It returns false when an
// argument is not a string, as when conf lacks a key, so the hook must
// run in the VM, which raises the error. It also returns false for an
// argument above MaxHeaderField and for arguments above maxStaticBytes
// together.
func bindStatic(steps []staticStep, config *object.Map) ([]HeaderChange, bool) {
	changes := make([]HeaderChange, len(steps))
	total := 0
	for i, step := range steps {
		values := make([]string, len(step.args))
		for j, argument := range step.args {
			value, ok := evalStatic(argument, config)
			total += len(value)
			if !ok || total > maxStaticBytes {
				return nil, false
			}
			values[j] = value
		}

		changes[i] = HeaderChange{Response: step.side == responseHeader, Delete: step.del, Name: values[0]}
		if !step.del {
			changes[i].Value = values[1]
		}
	}
	PrepareHeaderChanges(changes)
	return changes, true
}

// evalStatic returns the value of s for config, or false when a part is
// not a string or the value grows above MaxHeaderField.
func evalStatic(s staticString, config *object.Map) (string, bool) {
	var value strings.Builder
	for _, part := range s {
		text := part.literal
		if part.fromConf {
			confValue, ok := config.Get(part.confKey).(*object.String)
			if !ok {
				return "", false
			}
			text = confValue.Value()
		}
		if value.Len()+len(text) > MaxHeaderField {
			return "", false
		}
		value.WriteString(text)
	}
	return value.String(), true
}

// ApplyHeaderChanges makes the changes of each list to ex in order, with
// the checks and limits of set_header, and reports whether all succeeded.
// After a failure it restores ex's headers as they were, so a run of the
// hooks in a VM starts from the same exchange. Running the changes before
// a failure again from their result could fail earlier, since a header
// that a later change grew counts against the size limit from the start.
func ApplyHeaderChanges(ex *Exchange, lists ...[]HeaderChange) bool {
	state := headerState{exchange: ex, headerBytes: [headerSides]int{-1, -1}}
	var undo headerUndo
	undo.begin(ex)
	for _, changes := range lists {
		for i := range changes {
			change := &changes[i]
			side := change.side()
			key := change.key
			if key == "" {
				key = textproto.CanonicalMIMEHeaderKey(change.Name)
			}
			undo.record(side, *state.header(side), key)
			if change.Delete {
				state.delKey(side, key)
				continue
			}
			if !state.applySet(change, side, key) {
				undo.revert(&state)
				return false
			}
		}
	}
	return true
}

// applySet makes change, a set on side of field key, and reports whether
// it passed set_header's checks. A prepared change skips the checks of a
// single field.
func (host *headerState) applySet(change *HeaderChange, side headerSide, key string) bool {
	if change.values == nil {
		return host.setField(change.method(), side, change.Name, change.Value) == nil
	}
	return host.storeField(change.method(), side, key, change.Name, change.values) == nil
}

// headerUndo records what ApplyHeaderChanges changes, to restore it. The
// first changes go to an array, so a hook of a few changes allocates
// nothing for it.
type headerUndo struct {
	measured [headerSides]measuredHeader
	wasNil   [headerSides]bool
	first    [8]undoField
	count    int
	more     []undoField
}

// undoField is a header field before a change: its values, or absent.
type undoField struct {
	side    headerSide
	key     string
	values  []string
	present bool
}

// begin records the state of ex's headers before the first change.
func (u *headerUndo) begin(ex *Exchange) {
	u.measured = ex.measured
	u.wasNil = [headerSides]bool{ex.Request.Header == nil, ex.Response.Header == nil}
}

// record stores field key, in canonical form, of header, on side, before a
// change.
func (u *headerUndo) record(side headerSide, header http.Header, key string) {
	values, present := header[key]
	field := undoField{side: side, key: key, values: values, present: present}
	if u.count < len(u.first) {
		u.first[u.count] = field
	} else {
		u.more = append(u.more, field)
	}
	u.count++
}

// revert restores the headers of state's exchange as begin found them.
func (u *headerUndo) revert(state *headerState) {
	for i := u.count - 1; i >= 0; i-- {
		var field *undoField
		if i < len(u.first) {
			field = &u.first[i]
		} else {
			field = &u.more[i-len(u.first)]
		}
		header := *state.header(field.side)
		if field.present {
			header[field.key] = field.values
		} else {
			delete(header, field.key)
		}
	}
	for side := range headerSides {
		if u.wasNil[side] {
			*state.header(side) = nil
		}
	}
	state.exchange.measured = u.measured
}
