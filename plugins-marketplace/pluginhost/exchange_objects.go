package pluginhost

import (
	"context"
	"fmt"

	"github.com/risor-io/risor/object"
	"github.com/risor-io/risor/op"
)

// hostObjects contains what one hook call receives as its ctx argument: ctx,
// ctx.req, ctx.resp and their methods, in one allocation. Each attribute is
// read from the Exchange when a script reads it, so nothing is converted up
// front.
type hostObjects struct {
	// exchange is nil once the hook call returned. A script that kept ctx
	// in a global then gets an error instead of another request's data.
	exchange *Exchange
	phase    Phase

	// callCtx is the hook caller's context, which host functions that wait,
	// such as ctx.http, pass on. caller names the binding for the host.
	callCtx context.Context
	caller  Caller

	// vars is ctx.vars, created from Exchange.Vars on first use and copied
	// back when the hook returns.
	vars *object.Map

	// exited records that the hook called ctx.exit.
	exited bool

	ctx     contextObject
	req     requestObject
	resp    responseObject
	methods [methodCount]hostMethod
}

func newHostObjects(ctx context.Context, ex *Exchange, phase Phase, caller Caller) *hostObjects {
	host := &hostObjects{exchange: ex, phase: phase, callCtx: ctx, caller: caller}
	host.ctx.hostObject = hostObject{host: host, name: "ctx"}
	host.req.hostObject = hostObject{host: host, name: "ctx.req"}
	host.resp.hostObject = hostObject{host: host, name: "ctx.resp"}
	for kind := range host.methods {
		host.methods[kind] = hostMethod{host: host, kind: methodKind(kind)}
	}
	return host
}

// detach ends the hook call: from now on the objects no longer reach ex.
func (host *hostObjects) detach() {
	host.exchange = nil
}

// attribute returns a data attribute read from the exchange, or an error
// object when the hook call that received the object has returned.
func (host *hostObjects) attribute(read func(ex *Exchange) object.Object) (object.Object, bool) {
	if host.exchange == nil {
		return errDetached(), true
	}
	return read(host.exchange), true
}

func errDetached() *object.Error {
	return object.Errorf("eval error: ctx is valid only during the hook call that received it")
}

// hostObject implements the object.Object methods that ctx, ctx.req and
// ctx.resp share. name is how the script reaches the object, such as "ctx.req".
type hostObject struct {
	host *hostObjects
	name string
}

func (o *hostObject) Inspect() string {
	return o.name
}

func (o *hostObject) Interface() any {
	return o.name
}

func (o *hostObject) IsTruthy() bool {
	return true
}

func (o *hostObject) Cost() int {
	return 0
}

func (o *hostObject) RunOperation(opType op.BinaryOpType, right object.Object) object.Object {
	return object.TypeErrorf("type error: unsupported operation for %s: %v", o.name, opType)
}

func (o *hostObject) SetAttr(name string, value object.Object) error {
	return fmt.Errorf("type error: cannot set attribute %q on %s. Use its methods instead", name, o.name)
}

// contextObject is the ctx argument of a hook.
type contextObject struct {
	hostObject
}

func (c *contextObject) Type() object.Type {
	return "ctx"
}

func (c *contextObject) Equals(other object.Object) object.Object {
	return object.NewBool(other == object.Object(c))
}

func (c *contextObject) GetAttr(name string) (object.Object, bool) {
	switch name {
	case "req":
		return &c.host.req, true
	case "resp":
		return &c.host.resp, true
	case "phase":
		return object.NewString(string(c.host.phase)), true
	case "exit":
		return &c.host.methods[methodExit], true
	case "request_id":
		return c.host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.RequestID) })
	case "vars":
		return c.host.varsMap()
	}
	return c.host.serviceNamespace(name)
}

// requestObject is ctx.req.
type requestObject struct {
	hostObject
}

func (r *requestObject) Type() object.Type {
	return "request"
}

func (r *requestObject) Equals(other object.Object) object.Object {
	return object.NewBool(other == object.Object(r))
}

func (r *requestObject) GetAttr(name string) (object.Object, bool) {
	switch name {
	case "method":
		return r.host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.Method) })
	case "host":
		return r.host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.Host) })
	case "path":
		return r.host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.Path) })
	case "query":
		return r.host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.RawQuery) })
	case "header":
		return &r.host.methods[methodRequestHeader], true
	case "set_header":
		return &r.host.methods[methodRequestSetHeader], true
	case "del_header":
		return &r.host.methods[methodRequestDelHeader], true
	case "set_path":
		return &r.host.methods[methodRequestSetPath], true
	}
	return r.host.requestExtra(name)
}

// responseObject is ctx.resp.
type responseObject struct {
	hostObject
}

func (r *responseObject) Type() object.Type {
	return "response"
}

func (r *responseObject) Equals(other object.Object) object.Object {
	return object.NewBool(other == object.Object(r))
}

func (r *responseObject) GetAttr(name string) (object.Object, bool) {
	switch name {
	case "status":
		return r.host.attribute(func(ex *Exchange) object.Object { return object.NewInt(int64(ex.Response.Status)) })
	case "header":
		return &r.host.methods[methodResponseHeader], true
	case "set_header":
		return &r.host.methods[methodResponseSetHeader], true
	case "del_header":
		return &r.host.methods[methodResponseDelHeader], true
	}
	return r.host.responseExtra(name)
}

// hostMethod is a method of ctx, ctx.req or ctx.resp, bound to its call.
type hostMethod struct {
	host *hostObjects
	kind methodKind
}

func (m *hostMethod) Type() object.Type {
	return object.BUILTIN
}

func (m *hostMethod) Inspect() string {
	return fmt.Sprintf("builtin(%s)", methodSpecs[m.kind].name)
}

func (m *hostMethod) Interface() any {
	return nil
}

func (m *hostMethod) Equals(other object.Object) object.Object {
	return object.NewBool(other == object.Object(m))
}

func (m *hostMethod) GetAttr(name string) (object.Object, bool) {
	if name == "__name__" {
		return object.NewString(methodSpecs[m.kind].name), true
	}
	return nil, false
}

func (m *hostMethod) SetAttr(name string, value object.Object) error {
	return fmt.Errorf("type error: cannot set attribute %q on builtin %s", name, methodSpecs[m.kind].name)
}

func (m *hostMethod) IsTruthy() bool {
	return true
}

func (m *hostMethod) Cost() int {
	return 0
}

func (m *hostMethod) RunOperation(opType op.BinaryOpType, right object.Object) object.Object {
	return object.TypeErrorf("type error: unsupported operation for builtin: %v", opType)
}

// Call runs the method on the exchange of the current hook call.
func (m *hostMethod) Call(ctx context.Context, args ...object.Object) object.Object {
	if m.host.exchange == nil {
		return errDetached()
	}
	return methodSpecs[m.kind].run(m.host, args)
}
