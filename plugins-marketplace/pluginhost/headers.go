package pluginhost

import (
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/risor-io/risor/arg"
	"github.com/risor-io/risor/object"
)

// headerSide selects the request or the response header of an exchange.
type headerSide int

const (
	requestHeader headerSide = iota
	responseHeader
	headerSides
)

// edgeManagedResponseHeaders are the response fields, in canonical form,
// that the edge's HTTP servers write for the body and the connection they
// send, so a hook's value would contradict them. A Content-Length that does
// not match the body cuts the response short or stalls the client. HTTP/2
// and HTTP/3 forbid connection-specific fields (RFC 9113 section 8.2.2,
// RFC 9114 section 4.2), so a client may reject a response that carries
// them as a protocol error. ctx.resp.set_header rejects these fields, and
// ctx.resp.del_header may remove them.
var edgeManagedResponseHeaders = []string{
	"Connection", "Content-Length", "Date", "Keep-Alive", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// headerState is the part of a hook call that set_header and del_header
// change: the exchange, and the size of its request and response header
// as MaxHeaderBytes counts it, or -1 before set_header measured it.
type headerState struct {
	exchange    *Exchange
	headerBytes [headerSides]int
}

// header returns the header map of side, which a setter may create.
func (host *headerState) header(side headerSide) *http.Header {
	if side == requestHeader {
		return &host.exchange.Request.Header
	}
	return &host.exchange.Response.Header
}

// measuredHeader is the size of one header of an Exchange as the last hook
// call that changed it left it: the map, its number of fields then, and
// its size as MaxHeaderBytes counts it.
type measuredHeader struct {
	header unsafe.Pointer
	fields int
	size   int
}

// headerSize returns the size of side's header as MaxHeaderBytes counts
// it. It follows the changes of set_header and del_header, the only
// writers during a call. At a call's first change it takes the size that
// an earlier call of the exchange left, when the header is the same map
// with the same number of fields, and measures the header otherwise. The
// edge adds or removes fields between phases, and replaces the response
// header at header_filter, which both make it measure again. A value that
// the edge changed in place could leave the size off by that value's
// growth.
func (host *headerState) headerSize(side headerSide) int {
	if host.headerBytes[side] >= 0 {
		return host.headerBytes[side]
	}

	header := *host.header(side)
	last := host.exchange.measured[side]
	if last.header != nil && last.header == mapPointer(header) && last.fields == len(header) {
		host.headerBytes[side] = last.size
	} else {
		host.headerBytes[side] = headerBytes(header)
	}
	return host.headerBytes[side]
}

// rememberHeaderSize stores the size of side's header in the exchange for
// the next hook call.
func (host *headerState) rememberHeaderSize(side headerSide) {
	header := *host.header(side)
	host.exchange.measured[side] = measuredHeader{header: mapPointer(header), fields: len(header), size: host.headerBytes[side]}
}

// mapPointer returns the identity of a header map, nil for a nil map.
func mapPointer(header http.Header) unsafe.Pointer {
	return reflect.ValueOf(header).UnsafePointer()
}

// setHeader implements set_header(name, value), which replaces all values
// of the header and creates the header map when it is nil. It rejects a
// field above MaxHeaderField, a change that grows the header above
// MaxHeaderBytes, and on the response the edge-managed fields.
func (host *headerState) setHeader(method string, side headerSide, args []object.Object) object.Object {
	if err := arg.Require(method, 2, args); err != nil {
		return err
	}
	name, err := object.AsString(args[0])
	if err != nil {
		return err
	}
	value, err := object.AsString(args[1])
	if err != nil {
		return err
	}
	if err := host.setField(method, side, name, value); err != nil {
		return err
	}
	return object.Nil
}

// setField sets header name of side to value for setHeader, and returns
// set_header's error when it breaks a rule or limit.
func (host *headerState) setField(method string, side headerSide, name, value string) *object.Error {
	key := textproto.CanonicalMIMEHeaderKey(name)
	if err := fieldError(method, side, key, name, value); err != nil {
		return err
	}
	return host.storeField(method, side, key, name, []string{value})
}

// fieldError returns set_header's error for a field name with value on
// side, or nil for a valid field. key is name in canonical form.
func fieldError(method string, side headerSide, key, name, value string) *object.Error {
	if !validHeaderName(name) {
		return object.Errorf("value error: %s: invalid header name %q", method, name)
	}
	if !validHeaderValue(value) {
		return object.Errorf("value error: %s: invalid value for header %q: control characters are not allowed", method, name)
	}
	if size := len(name) + len(value); size > MaxHeaderField {
		return object.Errorf("value error: %s: header %q of %d bytes is above the limit of %d bytes (8 KiB) for a name and its value", method, name, size, MaxHeaderField)
	}
	if side == responseHeader && slices.Contains(edgeManagedResponseHeaders, key) {
		return object.Errorf("value error: %s: header %q is managed by the edge, which writes %s for the body and connection it sends", method, key, strings.Join(edgeManagedResponseHeaders, ", "))
	}
	return nil
}

// storeField sets field key of side's header to values, a single value
// that passed fieldError, unless that grows the header above
// MaxHeaderBytes. The error names the field as the hook wrote it, name.
func (host *headerState) storeField(method string, side headerSide, key, name string, values []string) *object.Error {
	header := host.header(side)
	before := host.headerSize(side)
	after := before - fieldBytes(key, (*header)[key]) + len(key) + len(values[0])
	if after > MaxHeaderBytes && after > before {
		return object.Errorf("value error: %s: header %q would make the header %d bytes, above the limit of %d bytes (256 KiB) for all names and values", method, name, after, MaxHeaderBytes)
	}

	if *header == nil {
		*header = make(http.Header)
	}
	(*header)[key] = values
	host.headerBytes[side] = after
	host.rememberHeaderSize(side)
	return nil
}

// delHeader implements del_header(name). Deleting an absent header is fine.
func (host *headerState) delHeader(method string, side headerSide, args []object.Object) object.Object {
	if err := arg.Require(method, 1, args); err != nil {
		return err
	}
	name, err := object.AsString(args[0])
	if err != nil {
		return err
	}
	host.delField(side, name)
	return object.Nil
}

// delField deletes header name of side for delHeader.
func (host *headerState) delField(side headerSide, name string) {
	host.delKey(side, textproto.CanonicalMIMEHeaderKey(name))
}

// delKey deletes field key, in canonical form, of side's header.
func (host *headerState) delKey(side headerSide, key string) {
	header := *host.header(side)
	if host.headerBytes[side] >= 0 {
		host.headerBytes[side] -= fieldBytes(key, header[key])
	}
	delete(header, key)
	if host.headerBytes[side] >= 0 {
		host.rememberHeaderSize(side)
	}
}
