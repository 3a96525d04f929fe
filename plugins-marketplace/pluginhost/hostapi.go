package pluginhost

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/risor-io/risor/object"
)

// Limits of the host API.
const (
	// MaxRequestBody caps what ctx.req.body() reads, in bytes.
	MaxRequestBody = 1 << 20
	// DefaultRequestBody is what ctx.req.body() reads without a limit.
	DefaultRequestBody = 64 << 10
	// MaxBufferedBody caps the response body that ctx.resp.buffer_body()
	// collects, in bytes. A longer body reaches body_filter in chunks.
	MaxBufferedBody = 1 << 20
	// MaxFetchTimeout caps the timeout of one ctx.http request.
	MaxFetchTimeout = 5 * time.Second
	// MaxFetchBody caps the response body that ctx.http returns, in bytes.
	MaxFetchBody = 1 << 20
)

// errNoHost is raised by host functions when the edge passed no Host.
func errNoHost(name string) *object.Error {
	return object.Errorf("eval error: %s is not available: the host provides no services here", name)
}

// varsMap returns ctx.vars, creating it from Exchange.Vars on first use.
func (host *hostObjects) varsMap() (object.Object, bool) {
	if host.exchange == nil {
		return errDetached(), true
	}
	if host.vars == nil {
		host.vars = fromPlain(map[string]any(host.exchange.Vars)).(*object.Map)
		if host.exchange.Vars == nil {
			host.vars = object.NewMap(map[string]object.Object{})
		}
	}
	return host.vars, true
}

// storeVars copies ctx.vars back into the exchange when the hook used it.
// It keeps the exchange's previous ctx.vars when the hook left a value
// that is not JSON-like or a map above MaxVarsBytes.
func (host *hostObjects) storeVars() error {
	if host.vars == nil {
		return nil
	}
	plain, err := toPlain(host.vars)
	if err != nil {
		return err
	}
	if size := PlainBytes(plain, MaxVarsBytes); size > MaxVarsBytes {
		return fmt.Errorf("the map is above the limit of %d bytes (64 KiB), counting each key and string at its length and 8 bytes for every other value: keep large data out of ctx.vars", MaxVarsBytes)
	}
	host.exchange.Vars = plain.(map[string]any)
	return nil
}

// requestExtra returns the ctx.req members beyond headers and path.
func (host *hostObjects) requestExtra(name string) (object.Object, bool) {
	switch name {
	case "scheme":
		return host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.Scheme) })
	case "client_addr":
		return host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.ClientAddr) })
	case "route":
		return host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.Route) })
	case "tenant":
		return host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.Tenant) })
	case "consumer":
		return host.attribute(func(ex *Exchange) object.Object { return object.NewString(ex.Request.Consumer) })
	case "param":
		return host.method("ctx.req.param", routeParam), true
	case "arg":
		return host.method("ctx.req.arg", queryArg), true
	case "args":
		return host.method("ctx.req.args", queryArgs), true
	case "body":
		return host.method("ctx.req.body", readBody), true
	}
	return nil, false
}

// responseExtra returns the ctx.resp members for body_filter.
func (host *hostObjects) responseExtra(name string) (object.Object, bool) {
	switch name {
	case "chunk":
		return host.attribute(func(ex *Exchange) object.Object { return object.NewString(string(ex.Response.Chunk)) })
	case "eof":
		return host.attribute(func(ex *Exchange) object.Object { return object.NewBool(ex.Response.EOF) })
	case "set_chunk":
		return host.method("ctx.resp.set_chunk", setChunk), true
	case "buffer_body":
		return host.method("ctx.resp.buffer_body", bufferBody), true
	}
	return nil, false
}

// method returns a host function bound to this call. It fails once the
// call returned.
func (host *hostObjects) method(name string, run func(host *hostObjects, args []object.Object) object.Object) *funcObject {
	return newFunc(name, func(_ context.Context, args []object.Object) object.Object {
		if host.exchange == nil {
			return errDetached()
		}
		return run(host, args)
	})
}

func queryArg(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.req.arg", args, 1, 1); err != nil {
		return err
	}
	name, err := argString("ctx.req.arg", args, 0)
	if err != nil {
		return err
	}
	values, _ := url.ParseQuery(host.exchange.Request.RawQuery)
	return object.NewString(values.Get(name))
}

// queryArgs implements ctx.req.args(): each query parameter's first value.
func queryArgs(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.req.args", args, 0, 0); err != nil {
		return err
	}
	values, _ := url.ParseQuery(host.exchange.Request.RawQuery)
	items := make(map[string]object.Object, len(values))
	for name := range values {
		items[name] = object.NewString(values.Get(name))
	}
	return object.NewMap(items)
}

// readBody implements ctx.req.body(limit = DefaultRequestBody).
func readBody(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.req.body", args, 0, 1); err != nil {
		return err
	}
	limit := int64(DefaultRequestBody)
	if len(args) == 1 {
		var err *object.Error
		if limit, err = argInt("ctx.req.body", args, 0); err != nil {
			return err
		}
	}
	if limit < 0 || limit > MaxRequestBody {
		return object.Errorf("value error: ctx.req.body: limit %d is out of range: use 0 to %d", limit, MaxRequestBody)
	}
	if host.exchange.Host == nil {
		return errNoHost("ctx.req.body")
	}

	body, readErr := host.exchange.Host.ReadBody(int(limit))
	if readErr != nil {
		return object.Errorf("io error: ctx.req.body: %v", readErr)
	}
	return object.NewString(string(body))
}

func setChunk(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.resp.set_chunk", args, 1, 1); err != nil {
		return err
	}
	chunk, err := argString("ctx.resp.set_chunk", args, 0)
	if err != nil {
		return err
	}
	if host.phase != PhaseBodyFilter {
		return object.Errorf("eval error: ctx.resp.set_chunk is available in the body_filter phase only, not in %q", host.phase)
	}
	if len(chunk) > MaxChunk {
		return object.Errorf("value error: ctx.resp.set_chunk: chunk of %d bytes is above the limit of %d bytes (4 MiB)", len(chunk), MaxChunk)
	}
	host.exchange.Response.Chunk = []byte(chunk)
	return object.Nil
}

func bufferBody(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.resp.buffer_body", args, 0, 0); err != nil {
		return err
	}
	if host.phase != PhaseHeaderFilter {
		return object.Errorf("eval error: ctx.resp.buffer_body is available in the header_filter phase only, not in %q", host.phase)
	}
	host.exchange.Response.BufferBody = true
	return object.Nil
}

// serviceNamespace returns ctx.kv, ctx.limit, ctx.http, ctx.consumer and
// ctx.log.
func (host *hostObjects) serviceNamespace(name string) (object.Object, bool) {
	switch name {
	case "kv":
		return &namespace{name: "ctx.kv", members: map[string]object.Object{
			"get":    host.method("ctx.kv.get", kvGet),
			"set":    host.method("ctx.kv.set", kvSet),
			"delete": host.method("ctx.kv.delete", kvDelete),
			"incr":   host.method("ctx.kv.incr", kvIncr),
		}}, true
	case "limit":
		return &namespace{name: "ctx.limit", members: map[string]object.Object{
			"local": host.method("ctx.limit.local", limitFunc("local")),
			"redis": host.method("ctx.limit.redis", limitFunc("redis")),
		}}, true
	case "http":
		return &namespace{name: "ctx.http", members: map[string]object.Object{
			"request": host.method("ctx.http.request", httpRequest),
			"get":     host.method("ctx.http.get", httpGet),
		}}, true
	case "consumer":
		return host.consumerNamespace(), true
	case "log":
		return &namespace{name: "ctx.log", members: map[string]object.Object{
			"info":  host.method("ctx.log.info", logFunc("ctx.log.info", slog.LevelInfo)),
			"warn":  host.method("ctx.log.warn", logFunc("ctx.log.warn", slog.LevelWarn)),
			"error": host.method("ctx.log.error", logFunc("ctx.log.error", slog.LevelError)),
		}}, true
	}
	return nil, false
}

// logFunc implements ctx.log.info(message, fields = {}) and its siblings.
func logFunc(name string, level slog.Level) func(*hostObjects, []object.Object) object.Object {
	return func(host *hostObjects, args []object.Object) object.Object {
		if err := argCount(name, args, 1, 2); err != nil {
			return err
		}
		message, err := argString(name, args, 0)
		if err != nil {
			return err
		}
		var fields map[string]any
		if len(args) == 2 {
			plain, plainErr := toPlain(args[1])
			asMap, isMap := plain.(map[string]any)
			if plainErr != nil || !isMap {
				return object.TypeErrorf("type error: %s: fields must be a map of JSON-like values", name)
			}
			fields = asMap
		}
		if host.exchange.Host == nil {
			return errNoHost(name)
		}

		host.exchange.Host.Log(host.caller(), level, message, fields)
		return object.Nil
	}
}
