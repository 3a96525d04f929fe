package pluginhost

import "net/http"

// Exchange is the request and response state that hooks read and change.
// The edge creates one per request and passes it to every hook of every
// plugin in order, so each hook reads the changes that earlier hooks made. It
// contains plain Go data only and no references into a Risor VM, so a hook
// call is "an Exchange in, an Exchange out" and could cross a process
// boundary. Host is the one exception: it is the edge's service interface,
// which a worker process would reach over RPC.
type Exchange struct {
	Request  Request
	Response Response

	// RequestID is the edge's id of the request, as sent in X-Request-Id.
	RequestID string

	// Vars is the per-request map that the plugins of one chain share as
	// ctx.vars. Values are JSON-like: nil, bool, int64, float64, string,
	// []any and map[string]any.
	Vars map[string]any

	// Exit is non-nil once a hook called ctx.exit. The edge stops calling
	// further hooks of the phase when it is set.
	Exit *Exit

	// Host serves the host API (ctx.kv, ctx.limit, ctx.http, ctx.log and
	// ctx.req.body). Nil makes those functions raise an error.
	Host Host

	// measured keeps the size of the request and the response header from
	// one hook call to the next (see hostObjects.headerSize).
	measured [headerSides]measuredHeader
}

// Request is the client request as the upstream will receive it.
type Request struct {
	Method string
	Host   string

	// Path is the upstream path. Rewrite and before_proxy hooks change it
	// with ctx.req.set_path.
	Path string

	// RawQuery is the query string without the leading "?".
	RawQuery string

	// Header may be nil. A hook that sets a header creates it.
	Header http.Header

	// Scheme is "http" or "https" as the client used it.
	Scheme string

	// ClientAddr is the client's IP address, without the port.
	ClientAddr string

	// Tenant and Route name the tenant and the matched route.
	Tenant string
	Route  string
	// Params maps the parameters of the matched route path, such as "id"
	// of "/users/{id}", to their decoded values. It is nil for exact and
	// prefix paths.
	Params map[string]string

	// Consumer is the consumer that a plugin identified with
	// ctx.consumer.set, or "".
	Consumer string
}

// Response is the upstream response, as far as it is known.
type Response struct {
	// Status is the upstream status code, or 0 before the upstream response arrived.
	Status int

	// Header contains the headers to send to the client. It may be nil, and a
	// hook that sets a header creates it.
	Header http.Header

	// Chunk is the body chunk that the body_filter hooks see, and EOF marks
	// the last one. A hook replaces the chunk with ctx.resp.set_chunk.
	Chunk []byte
	EOF   bool

	// BufferBody is set by ctx.resp.buffer_body() in header_filter. The edge
	// then collects the body, up to MaxBufferedBody bytes, and calls
	// body_filter once with the whole body.
	BufferBody bool
}

// Exit is a response that a hook chose to send in place of the upstream's.
type Exit struct {
	Status int
	Body   string
}
