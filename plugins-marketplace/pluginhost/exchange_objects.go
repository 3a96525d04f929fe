package pluginhost

import (
	"context"
	"fmt"
	"time"

	"github.com/risor-io/risor/object"
	"github.com/risor-io/risor/op"
)

// hostObjects contains what one hook call receives as its ctx argument: ctx,
// ctx.req, ctx.resp and their methods, in one allocation. Each attribute is
// read from the Exchange when a script reads it, so nothing is converted up
// front.
//
// Each preparedVM owns one hostObjects and reuses it for all its calls:
// wire links the objects once, begin and detach frame each call. That is
// safe because a VM runs one call at a time, and no script value outlives
// the call that made it. Top-level variables hold only functions and
// constants (checkImmutableGlobals), and functions cannot assign them.
// Default arguments are constants. ctx.vars, ctx.kv and ctx.log store
// plain Go copies, which cannot hold ctx.
type hostObjects struct {
	// headerState holds the exchange, which is nil once the hook call
	// returned. A script that kept ctx in a global then gets an error
	// instead of another request's data.
	headerState
	phase Phase

	// callCtx is the hook caller's context, and timeout the binding's limit
	// for the call, whose deadline vmCall holds once the VM started the
	// call. Host functions that wait, such as ctx.http, pass on
	// serviceContext, which combines both. binding names the binding for
	// the host, without a request id (see caller).
	callCtx        context.Context
	timeout        time.Duration
	vmCall         *callContext
	binding        *Caller
	serviceCtx     context.Context
	cancelServices context.CancelFunc

	// vars is ctx.vars, created from Exchange.Vars on first use and copied
	// back when the hook returns.
	vars *object.Map

	// exited records that the hook called ctx.exit.
	exited bool

	ctx     contextObject
	req     requestObject
	resp    responseObject
	methods [methodCount]hostMethod

	// args are the hook's arguments, ctx and conf, kept here to save an
	// allocation per call.
	args [2]object.Object
}

// wire links ctx, ctx.req, ctx.resp and the methods to host. It runs once,
// when the VM is created.
func (host *hostObjects) wire() {
	host.ctx.hostObject = hostObject{host: host, name: "ctx"}
	host.req.hostObject = hostObject{host: host, name: "ctx.req"}
	host.resp.hostObject = hostObject{host: host, name: "ctx.resp"}
	for kind := range host.methods {
		host.methods[kind] = hostMethod{host: host, kind: methodKind(kind)}
	}
}

// begin attaches host to the call of a hook for phase on ex, and returns
// the hook's arguments: ctx and conf.
func (host *hostObjects) begin(ctx context.Context, timeout time.Duration, ex *Exchange, phase Phase, binding *Caller, conf object.Object) []object.Object {
	host.exchange, host.phase = ex, phase
	host.callCtx, host.timeout = ctx, timeout
	host.binding = binding
	host.serviceCtx, host.cancelServices = nil, nil
	host.vars = nil
	host.exited = false
	host.headerBytes = [headerSides]int{-1, -1}

	host.args = [2]object.Object{&host.ctx, conf}
	return host.args[:]
}

// detach ends the hook call: from now on the objects no longer reach ex or
// the caller's context, and a host call still waiting on serviceContext is
// cancelled.
func (host *hostObjects) detach() {
	host.exchange, host.binding = nil, nil
	if host.cancelServices != nil {
		host.cancelServices()
	}
	host.callCtx, host.serviceCtx, host.cancelServices = nil, nil, nil
	host.vars = nil
	host.args = [2]object.Object{}
}

// caller returns the ids of the binding and the request for host calls.
// It is built on use, so hooks that make no such call do not copy it.
func (host *hostObjects) caller() Caller {
	caller := *host.binding
	caller.RequestID = host.exchange.RequestID
	return caller
}

// serviceContext returns the context for host calls that wait: the caller's
// context, limited to the binding's deadline when there is one. It is
// created on first use, so hooks that call no such function pay nothing.
func (host *hostObjects) serviceContext() context.Context {
	if host.timeout <= 0 || host.vmCall == nil {
		return host.callCtx
	}
	if host.serviceCtx == nil {
		deadline, ok := host.vmCall.Deadline()
		if !ok {
			return host.callCtx
		}
		host.serviceCtx, host.cancelServices = context.WithDeadline(host.callCtx, deadline)
	}
	return host.serviceCtx
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
	if m.host.vmCall != nil {
		m.host.vmCall.learn(ctx)
	}
	return methodSpecs[m.kind].run(m.host, args)
}
