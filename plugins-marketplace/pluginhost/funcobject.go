package pluginhost

import (
	"context"
	"fmt"

	"github.com/risor-io/risor/object"
	"github.com/risor-io/risor/op"
)

// funcObject is a host function as scripts see it. Unlike Risor's
// object.Builtin it has no __module__ and no spawn attribute, so nothing
// reachable from it leads to a Risor module or starts a goroutine.
type funcObject struct {
	name string
	fn   func(ctx context.Context, args []object.Object) object.Object
}

func newFunc(name string, fn func(ctx context.Context, args []object.Object) object.Object) *funcObject {
	return &funcObject{name: name, fn: fn}
}

// wrapBuiltin hides a Risor builtin behind a funcObject.
func wrapBuiltin(name string, builtin object.Object) *funcObject {
	callable := builtin.(object.Callable)
	return newFunc(name, func(ctx context.Context, args []object.Object) object.Object {
		return callable.Call(ctx, args...)
	})
}

func (f *funcObject) Type() object.Type { return object.BUILTIN }

func (f *funcObject) Inspect() string { return fmt.Sprintf("builtin(%s)", f.name) }

func (f *funcObject) Interface() any { return nil }

func (f *funcObject) Equals(other object.Object) object.Object {
	return object.NewBool(other == object.Object(f))
}

func (f *funcObject) GetAttr(name string) (object.Object, bool) {
	if name == "__name__" {
		return object.NewString(f.name), true
	}
	return nil, false
}

func (f *funcObject) SetAttr(name string, value object.Object) error {
	return fmt.Errorf("type error: cannot set attribute %q on builtin %s", name, f.name)
}

func (f *funcObject) IsTruthy() bool { return true }

func (f *funcObject) Cost() int { return 0 }

func (f *funcObject) RunOperation(opType op.BinaryOpType, right object.Object) object.Object {
	return object.TypeErrorf("type error: unsupported operation for builtin: %v", opType)
}

// Call runs the function.
func (f *funcObject) Call(ctx context.Context, args ...object.Object) object.Object {
	return f.fn(ctx, args)
}

// namespace is a read-only group of host functions, such as crypto or
// ctx.kv.
type namespace struct {
	name    string
	members map[string]object.Object
}

func (n *namespace) Type() object.Type { return "namespace" }

func (n *namespace) Inspect() string { return n.name }

func (n *namespace) Interface() any { return nil }

func (n *namespace) Equals(other object.Object) object.Object {
	return object.NewBool(other == object.Object(n))
}

func (n *namespace) GetAttr(name string) (object.Object, bool) {
	member, ok := n.members[name]
	return member, ok
}

func (n *namespace) SetAttr(name string, value object.Object) error {
	return fmt.Errorf("type error: cannot set attribute %q on %s", name, n.name)
}

func (n *namespace) IsTruthy() bool { return true }

func (n *namespace) Cost() int { return 0 }

func (n *namespace) RunOperation(opType op.BinaryOpType, right object.Object) object.Object {
	return object.TypeErrorf("type error: unsupported operation for %s: %v", n.name, opType)
}

// argString returns args[i] as a string, or an error object naming fn.
func argString(fn string, args []object.Object, i int) (string, *object.Error) {
	value, ok := args[i].(*object.String)
	if !ok {
		return "", object.TypeErrorf("type error: %s: argument %d must be a string, got %s", fn, i+1, args[i].Type())
	}
	return value.Value(), nil
}

// argInt returns args[i] as an int, or an error object naming fn.
func argInt(fn string, args []object.Object, i int) (int64, *object.Error) {
	value, ok := args[i].(*object.Int)
	if !ok {
		return 0, object.TypeErrorf("type error: %s: argument %d must be an int, got %s", fn, i+1, args[i].Type())
	}
	return value.Value(), nil
}

// argCount checks that fn received min to max arguments.
func argCount(fn string, args []object.Object, min, max int) *object.Error {
	if len(args) < min || len(args) > max {
		if min == max {
			return object.TypeErrorf("type error: %s takes %d arguments (%d given)", fn, min, len(args))
		}
		return object.TypeErrorf("type error: %s takes %d to %d arguments (%d given)", fn, min, max, len(args))
	}
	return nil
}
