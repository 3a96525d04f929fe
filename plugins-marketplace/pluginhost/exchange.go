package pluginhost

import "net/http"

// Exchange is the request and response state that hooks read and change.
// The edge creates one per request and passes it to every hook of every
// plugin in order, so each hook reads the changes that earlier hooks made. It
// contains plain Go data only and no references into a Risor VM.
type Exchange struct {
	Request  Request
	Response Response

	// Exit is non-nil once a hook called ctx.exit. The edge stops calling
	// further hooks of the phase when it is set.
	Exit *Exit
}

// Request is the client request as the upstream will receive it.
type Request struct {
	Method string
	Host   string

	// Path is the upstream path. Rewrite hooks change it with ctx.req.set_path.
	Path string

	// RawQuery is the query string without the leading "?".
	RawQuery string

	// Header may be nil. A hook that sets a header creates it.
	Header http.Header
}

// Response is the upstream response, as far as it is known.
type Response struct {
	// Status is the upstream status code, or 0 before the upstream response arrived.
	Status int

	// Header contains the headers to send to the client. It may be nil, and a
	// hook that sets a header creates it.
	Header http.Header
}

// Exit is a response that a hook chose to send in place of the upstream's.
type Exit struct {
	Status int
	Body   string
}
