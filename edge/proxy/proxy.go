// Package proxy forwards requests to upstream targets with
// httputil.ReverseProxy. Its transport, Upstreams, picks a target per
// attempt, retries when that is safe and keeps one connection pool per
// upstream.
package proxy

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"time"

	"portcullis.dev/edge/balancer"
)

// Call is the per-request state that the proxy reads from the request
// context. The caller sets the fields before ServeHTTP. The proxy sets
// Target and Status.
type Call struct {
	Balancer  *balancer.Balancer
	RequestID string
	// OnResponse runs on the upstream response before it is written. An
	// error turns the response into a call of OnError.
	OnResponse func(*http.Response) error
	// OnError writes the response when the upstream could not be reached
	// or OnResponse failed. It is required.
	OnError func(http.ResponseWriter, *http.Request, error)
	// OnSend, when set, runs once on the outgoing request, after the
	// edge's headers are set and before the transport picks a target. It
	// may set headers.
	OnSend func(out *http.Request)

	// Sent is when the request was handed to the transport. Responded is
	// when the upstream's response header arrived or the last attempt
	// failed, so the time between them includes retries.
	Sent, Responded time.Time

	// Target is the upstream target that the balancer picked.
	Target *url.URL
	// Status is the status of the response written, zero until the
	// upstream responded.
	Status int
	// WebSocketIdleTimeout closes a WebSocket tunnel after this long
	// without a frame in either direction. Zero means
	// DefaultWebSocketIdleTimeout.
	WebSocketIdleTimeout time.Duration

	// upstreamConn is the HTTP/1.1 connection, plain or over TLS, that the
	// request went out on, nil for other connections.
	upstreamConn *recordingConn
}

type callKey struct{}

// WithCall returns a context that carries call.
func WithCall(ctx context.Context, call *Call) context.Context {
	return context.WithValue(ctx, callKey{}, call)
}

func callFrom(ctx context.Context) *Call {
	call, _ := ctx.Value(callKey{}).(*Call)
	return call
}

// New returns a reverse proxy for requests whose context carries a Call.
// Response headers named in owned are removed from upstream responses,
// before and after OnResponse, because the edge sets them itself. The
// client's Forwarded and X-Forwarded-* headers are kept and extended only
// when the client address is in trusted (see forward). Errors that the
// proxy logs on its own, such as a body copy that failed midway, go to
// logger at Warn level.
func New(transport http.RoundTripper, owned []string, trusted []netip.Prefix, logger *slog.Logger) *httputil.ReverseProxy {
	removeOwned := func(header http.Header) {
		for _, name := range owned {
			header.Del(name)
		}
	}

	return &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			rewrite(pr, trusted)
		},
		// Zero still flushes each write of a body without a length and of
		// server-sent events (httputil.ReverseProxy.flushInterval), so
		// streams reach the client without delay. A body of known length
		// is not flushed early, so a response with no body, such as a
		// gRPC Trailers-Only response, keeps its headers and end of
		// stream in one HTTP/2 or HTTP/3 frame. -1 would flush the
		// headers at once and split them.
		FlushInterval: 0,
		BufferPool:    newCopyBuffers(),
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ModifyResponse: func(resp *http.Response) error {
			call := callFrom(resp.Request.Context())
			call.Responded = time.Now()
			removeClosedConnectionHeaders(resp, call)
			removeOwned(resp.Header)
			if call.OnResponse != nil {
				if err := call.OnResponse(resp); err != nil {
					return err
				}
			}

			removeOwned(resp.Header)
			if resp.StatusCode == http.StatusSwitchingProtocols {
				watchIdle(resp, call.WebSocketIdleTimeout)
			}
			addVia(resp.Header, resp.ProtoMajor, resp.ProtoMinor)
			call.Status = resp.StatusCode
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			call := callFrom(r.Context())
			if call.Responded.IsZero() {
				call.Responded = time.Now()
			}
			call.OnError(w, r, err)
		},
	}
}

// rewrite prepares the outgoing request. The transport, an *Upstreams,
// picks the target for each attempt.
// ReverseProxy has already removed the hop-by-hop headers (RFC 9110 section
// 7.6.1) except "TE: trailers" and the Upgrade and Connection of an upgrade,
// and the client's Forwarded and X-Forwarded-* headers, from pr.Out.
func rewrite(pr *httputil.ProxyRequest, trusted []netip.Prefix) {
	call := callFrom(pr.In.Context())
	// ReverseProxy re-encodes a query with a ";" or an invalid escape
	// before Rewrite runs; the edge sends the query byte for byte instead
	// (docs/paths.md).
	pr.Out.URL.RawQuery = pr.In.URL.RawQuery

	forward(pr, trusted)
	limitUpgrade(pr)
	removeProxyHeaders(pr.Out.Header)
	addVia(pr.Out.Header, pr.In.ProtoMajor, pr.In.ProtoMinor)
	if call.RequestID != "" {
		pr.Out.Header.Set("X-Request-Id", call.RequestID)
	}
	pr.Out = traceConnection(pr.Out, call)
	if call.OnSend != nil {
		call.OnSend(pr.Out)
	}
	call.Sent = time.Now()
}
