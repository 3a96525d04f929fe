// Package proxy forwards requests to upstream targets with
// httputil.ReverseProxy over one shared, pooled http.Transport.
package proxy

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"time"

	"portcullis.dev/edge/balancer"
)

// Defaults for TransportOptions fields left zero.
const (
	DefaultDialTimeout           = 5 * time.Second
	DefaultResponseHeaderTimeout = 60 * time.Second
	DefaultIdleConnsPerHost      = 64
)

// TransportOptions configure the shared upstream transport.
type TransportOptions struct {
	// DialTimeout bounds the TCP connect to a target. Zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a target's response header
	// after the request is sent. Zero means DefaultResponseHeaderTimeout.
	ResponseHeaderTimeout time.Duration
	// IdleConnsPerHost is the keep-alive pool size per target. Zero means
	// DefaultIdleConnsPerHost.
	IdleConnsPerHost int
}

// NewTransport returns the transport that all tenants share. It keeps idle
// connections per target and ignores proxy environment variables, because
// targets are reached directly.
func NewTransport(opts TransportOptions) *http.Transport {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.ResponseHeaderTimeout <= 0 {
		opts.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if opts.IdleConnsPerHost <= 0 {
		opts.IdleConnsPerHost = DefaultIdleConnsPerHost
	}

	dialer := &net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16 * opts.IdleConnsPerHost,
		MaxIdleConnsPerHost:   opts.IdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.DialTimeout,
		ResponseHeaderTimeout: opts.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

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

	// Target is the upstream target that the balancer picked.
	Target *url.URL
	// Status is the status of the response written, zero until the
	// upstream responded.
	Status int
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
		// Flush each write at once, so streamed bodies (server-sent
		// events, long polls) reach the client without delay. Bodies are
		// copied in 32 KiB reads, which bounds the number of flushes.
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ModifyResponse: func(resp *http.Response) error {
			call := callFrom(resp.Request.Context())
			removeOwned(resp.Header)
			if call.OnResponse != nil {
				if err := call.OnResponse(resp); err != nil {
					return err
				}
			}

			// NOTE: net/http's transport deletes an upstream's
			// "Connection: close, X-Name" field before this runs, so
			// headers named next to "close" reach the client.
			removeOwned(resp.Header)
			addVia(resp.Header, resp.ProtoMajor, resp.ProtoMinor)
			call.Status = resp.StatusCode
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			callFrom(r.Context()).OnError(w, r, err)
		},
	}
}

// rewrite sends the request to the next target of the call's balancer.
// ReverseProxy has already removed the hop-by-hop headers (RFC 9110 section
// 7.6.1) except "TE: trailers", and the client's Forwarded and
// X-Forwarded-* headers, from pr.Out.
func rewrite(pr *httputil.ProxyRequest, trusted []netip.Prefix) {
	call := callFrom(pr.In.Context())
	call.Target = call.Balancer.Next()
	pr.SetURL(call.Target)

	forward(pr, trusted)
	removeProxyHeaders(pr.Out.Header)
	addVia(pr.Out.Header, pr.In.ProtoMajor, pr.In.ProtoMinor)
	if call.RequestID != "" {
		pr.Out.Header.Set("X-Request-Id", call.RequestID)
	}
}
