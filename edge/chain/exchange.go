package chain

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// NewExchange returns the exchange that the request phases see. Its request
// header is a clone, so plugins never change r. Its response header starts
// empty and holds the headers of an exit that the request phases set.
func NewExchange(r *http.Request) *pluginhost.Exchange {
	header := r.Header.Clone()
	if header == nil {
		header = http.Header{}
	}

	return &pluginhost.Exchange{
		Request: pluginhost.Request{
			Method:   r.Method,
			Host:     r.Host,
			Path:     r.URL.Path,
			RawQuery: r.URL.RawQuery,
			Header:   header,
		},
		Response: pluginhost.Response{Header: http.Header{}},
	}
}

// ApplyRequest returns a shallow copy of r that carries the exchange's
// header, path and query. Changes to Method and Host are not applied. The
// chain has checked that the path starts with "/".
func ApplyRequest(r *http.Request, ex *pluginhost.Exchange) *http.Request {
	out := new(http.Request)
	*out = *r
	target := *r.URL
	out.URL = &target

	out.Header = ex.Request.Header
	if out.Header == nil {
		out.Header = http.Header{}
	}

	if ex.Request.Path != r.URL.Path {
		target.Path = ex.Request.Path
		target.RawPath = ""
	}
	target.RawQuery = ex.Request.RawQuery
	return out
}

// RunResponse runs the header_filter phase on resp under ctx, the request's
// context, and applies the result: the header, a changed status, and an
// exit that replaces status and body. When the chain has body_filter hooks,
// it then wraps resp.Body so that the body passes through them under ctx
// (see filterBody). It returns an *Error when a
// step fails or sets an invalid status. A 101 response hands the connection
// to another protocol (RFC 9110 section 15.2.2), so no hook runs on it.
func (c *Chain) RunResponse(ctx context.Context, ex *pluginhost.Exchange, resp *http.Response) error {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return nil
	}
	if !c.Has(pluginhost.PhaseHeaderFilter) && !c.Has(pluginhost.PhaseBodyFilter) {
		return nil
	}

	upstreamType := resp.Header.Get("Content-Type")
	ex.Exit = nil
	ex.Response = pluginhost.Response{Status: resp.StatusCode, Header: resp.Header}
	buffering, err := c.runHeaderFilter(ctx, ex)
	if err != nil {
		return err
	}

	resp.Header = ex.Response.Header
	if resp.Header == nil {
		resp.Header = http.Header{}
	}

	if ex.Exit != nil {
		replaceBody(resp, ex.Exit, upstreamType)
		return nil
	}
	if ex.Response.Status != resp.StatusCode {
		resp.StatusCode = ex.Response.Status
		resp.Status = ""
	}
	return c.filterBody(ctx, ex, resp, buffering)
}

// runHeaderFilter runs the header_filter phase and returns the steps that
// called ctx.resp.buffer_body() and succeeded.
func (c *Chain) runHeaderFilter(ctx context.Context, ex *pluginhost.Exchange) ([]Step, error) {
	var buffering []Step
	ran := func(step Step, ok bool) {
		if ok && ex.Response.BufferBody {
			buffering = append(buffering, step)
		}
		ex.Response.BufferBody = false
	}

	phase := pluginhost.PhaseHeaderFilter
	err := c.run(ctx, phase, c.stepsOf(phase), ex, ran)
	return buffering, err
}

// RunExitResponse runs the header_filter phase on the response of an exit
// that a request phase (rewrite, access or before_proxy) set, so plugins
// can add headers such as CORS to a 401. The hooks see ctx.resp.status as
// the exit's status and the headers set so far. A hook that calls ctx.exit
// replaces the exit. body_filter does not run on an exit's body. It returns
// an *Error when a step fails.
func (c *Chain) RunExitResponse(ctx context.Context, ex *pluginhost.Exchange) error {
	return pluginhost.RunExitResponse(ex, c.Has(pluginhost.PhaseHeaderFilter), func() error {
		_, err := c.runHeaderFilter(ctx, ex)
		return err
	})
}

// replaceBody swaps the upstream body for an exit's. The upstream's
// Content-Type no longer applies, so it becomes text/plain unless the
// plugin set another one.
func replaceBody(resp *http.Response, exit *pluginhost.Exit, upstreamType string) {
	_ = resp.Body.Close()

	resp.StatusCode = exit.Status
	resp.Status = ""
	resp.Body = io.NopCloser(strings.NewReader(exit.Body))
	resp.ContentLength = int64(len(exit.Body))
	resp.TransferEncoding = nil
	resp.Uncompressed = false

	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Range")
	resp.Header.Del("ETag")
	resp.Header.Set("Content-Length", strconv.Itoa(len(exit.Body)))
	if contentType := resp.Header.Get("Content-Type"); contentType == "" || contentType == upstreamType {
		resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
}
