package pluginhost

import (
	"net/http"
	pathpkg "path"
	"strings"

	"github.com/risor-io/risor/arg"
	"github.com/risor-io/risor/object"
)

// methodKind indexes methodSpecs and hostObjects.methods.
type methodKind int

const (
	methodRequestHeader methodKind = iota
	methodRequestSetHeader
	methodRequestDelHeader
	methodRequestSetPath
	methodResponseHeader
	methodResponseSetHeader
	methodResponseDelHeader
	methodExit
	methodCount
)

// methodSpec is a host method: the name scripts see in errors, and its code.
type methodSpec struct {
	name string
	run  func(host *hostObjects, args []object.Object) object.Object
}

var methodSpecs = [methodCount]methodSpec{
	methodRequestHeader: {"ctx.req.header", func(host *hostObjects, args []object.Object) object.Object {
		return getHeader("ctx.req.header", host.exchange.Request.Header, args)
	}},
	methodRequestSetHeader: {"ctx.req.set_header", func(host *hostObjects, args []object.Object) object.Object {
		return host.setHeader("ctx.req.set_header", requestHeader, args)
	}},
	methodRequestDelHeader: {"ctx.req.del_header", func(host *hostObjects, args []object.Object) object.Object {
		return host.delHeader("ctx.req.del_header", requestHeader, args)
	}},
	methodRequestSetPath: {"ctx.req.set_path", setPath},
	methodResponseHeader: {"ctx.resp.header", func(host *hostObjects, args []object.Object) object.Object {
		return getHeader("ctx.resp.header", host.exchange.Response.Header, args)
	}},
	methodResponseSetHeader: {"ctx.resp.set_header", func(host *hostObjects, args []object.Object) object.Object {
		return host.setHeader("ctx.resp.set_header", responseHeader, args)
	}},
	methodResponseDelHeader: {"ctx.resp.del_header", func(host *hostObjects, args []object.Object) object.Object {
		return host.delHeader("ctx.resp.del_header", responseHeader, args)
	}},
	methodExit: {"ctx.exit", exitRequest},
}

// getHeader implements header(name): the first value, or "" when absent.
func getHeader(method string, header http.Header, args []object.Object) object.Object {
	if err := arg.Require(method, 1, args); err != nil {
		return err
	}
	name, err := object.AsString(args[0])
	if err != nil {
		return err
	}
	return object.NewString(header.Get(name))
}

// setPath implements ctx.req.set_path(path), allowed in rewrite and
// before_proxy hooks. It resolves dot segments and repeated slashes the
// way the edge cleans a client's path, so a plugin cannot send "/a/../../x"
// to an upstream that trusts the edge to have cleaned it.
func setPath(host *hostObjects, args []object.Object) object.Object {
	if err := arg.Require("ctx.req.set_path", 1, args); err != nil {
		return err
	}
	path, err := object.AsString(args[0])
	if err != nil {
		return err
	}

	if host.phase != PhaseRewrite && host.phase != PhaseBeforeProxy {
		return object.Errorf("eval error: ctx.req.set_path is available in the rewrite and before_proxy phases only, not in %q", host.phase)
	}
	if len(path) > MaxPath {
		return object.Errorf("value error: ctx.req.set_path: path of %d bytes is above the limit of %d bytes", len(path), MaxPath)
	}
	if !validPath(path) {
		return object.Errorf("value error: ctx.req.set_path: invalid path %q: it must start with / and contain no spaces, control characters, ? or #", path)
	}

	host.exchange.Request.Path = cleanPath(path)
	return object.Nil
}

// cleanPath resolves dot segments and repeated slashes, keeping a trailing
// slash.
func cleanPath(requestPath string) string {
	cleaned := pathpkg.Clean(requestPath)
	if strings.HasSuffix(requestPath, "/") && cleaned != "/" {
		cleaned += "/"
	}
	return cleaned
}

// exitSignal is the error that ctx.exit raises to stop the hook. IsFatal
// makes Risor's try() pass it on instead of catching it.
//
// NOTE: list methods such as each and map turn a callback's error into a
// plain, non-fatal error string, so try() around such a call catches the
// stop and the hook goes on. ex.Exit stays set.
type exitSignal struct{}

func (exitSignal) Error() string {
	return "ctx.exit stopped the hook"
}

func (exitSignal) IsFatal() bool {
	return true
}

// exitRequest implements ctx.exit(status, body): it records the response to send
// and raises exitSignal, which Instance.Run turns into a nil error.
func exitRequest(host *hostObjects, args []object.Object) object.Object {
	if err := arg.RequireRange("ctx.exit", 1, 2, args); err != nil {
		return err
	}
	status, err := object.AsInt(args[0])
	if err != nil {
		return err
	}
	body := ""
	if len(args) == 2 {
		if body, err = object.AsString(args[1]); err != nil {
			return err
		}
	}

	if status < 200 || status > 599 {
		return object.Errorf("value error: ctx.exit: invalid status %d, expected 200 to 599", status)
	}
	if len(body) > MaxExitBody {
		return object.Errorf("value error: ctx.exit: body of %d bytes is above the limit of %d bytes (1 MiB): send a shorter body, or let the upstream send large ones", len(body), MaxExitBody)
	}

	host.exchange.Exit = &Exit{Status: int(status), Body: body}
	host.exited = true
	return object.NewError(exitSignal{})
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenByte(name[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validHeaderValue rejects control characters other than horizontal tab,
// which would let a plugin split the header and inject others.
func validHeaderValue(value string) bool {
	for i := 0; i < len(value); i++ {
		c := value[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validPath accepts an absolute path without whitespace, control
// characters, query or fragment.
func validPath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c <= ' ' || c == 0x7f || c == '?' || c == '#' {
			return false
		}
	}
	return true
}

// routeParam implements ctx.req.param(name): the value of a parameter of
// the matched route path, or "" when the path has no such parameter.
func routeParam(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.req.param", args, 1, 1); err != nil {
		return err
	}
	name, err := argString("ctx.req.param", args, 0)
	if err != nil {
		return err
	}
	return object.NewString(host.exchange.Request.Params[name])
}
