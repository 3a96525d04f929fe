package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// filterReadSize is the largest upstream read that one body_filter call
// receives as ctx.resp.chunk, in bytes.
const filterReadSize = 32 << 10

// errBufferLimit is the failure of a step that asked for the whole body
// when the body is longer than pluginhost.MaxBufferedBody.
var errBufferLimit = fmt.Errorf("response body is above the buffer_body limit of %d bytes", pluginhost.MaxBufferedBody)

// filterBody routes resp.Body through the body_filter hooks. Without a
// buffering request it wraps the body so that each upstream read passes
// through the hooks as it arrives. When steps in buffering asked for the
// whole body, it reads the body here, before the headers go out, and runs
// the hooks once on it. Responses without a body are left alone.
func (c *Chain) filterBody(ctx context.Context, ex *pluginhost.Exchange, resp *http.Response, buffering []Step) error {
	if !c.Has(pluginhost.PhaseBodyFilter) || !hasBody(resp) {
		return nil
	}

	steps := c.stepsOf(pluginhost.PhaseBodyFilter)
	if len(buffering) > 0 {
		prefix, err := c.bufferBody(ctx, ex, resp, buffering)
		if err != nil || prefix == nil {
			return err
		}
		// Every step that asked for the whole body failed open, so those
		// plugins are skipped and the body streams through the others:
		// first what was read, then the rest.
		steps = withoutSteps(steps, buffering)
		resp.Body = &joinedBody{Reader: io.MultiReader(bytes.NewReader(prefix), resp.Body), closer: resp.Body}
	}

	// A hook may change the length of any chunk, so the upstream's length
	// no longer applies and the server streams the body (chunked on
	// HTTP/1.1, DATA frames on HTTP/2 and HTTP/3).
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Body = &filteredBody{chain: c, steps: steps, ctx: ctx, ex: ex, upstream: resp.Body, buf: make([]byte, filterReadSize)}
	return nil
}

// withoutSteps returns steps without the bindings in skip.
func withoutSteps(steps, skip []Step) []Step {
	var kept []Step
	for _, step := range steps {
		skipped := false
		for _, other := range skip {
			skipped = skipped || other.Binding == step.Binding
		}
		if !skipped {
			kept = append(kept, step)
		}
	}
	return kept
}

// hasBody reports whether resp has a body that body_filter runs on (see
// pluginhost.ResponseHasBody).
func hasBody(resp *http.Response) bool {
	if resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	method := ""
	if resp.Request != nil {
		method = resp.Request.Method
	}
	return pluginhost.ResponseHasBody(method, resp.StatusCode)
}

// bufferBody reads the whole body, up to pluginhost.MaxBufferedBody, and
// runs the body_filter hooks once on it with ctx.resp.eof set. A longer
// body fails each step in buffering by its on_error rule: it returns an
// *Error for the first step that fails closed, or else the bytes it read,
// for the caller to stream.
func (c *Chain) bufferBody(ctx context.Context, ex *pluginhost.Exchange, resp *http.Response, buffering []Step) ([]byte, error) {
	// One byte past the limit shows that the body is longer, and is kept
	// for the stream when every buffering step fails open.
	data, err := io.ReadAll(io.LimitReader(resp.Body, pluginhost.MaxBufferedBody+1))
	if err != nil {
		return nil, fmt.Errorf("read upstream body for buffer_body: %w", err)
	}

	if len(data) > pluginhost.MaxBufferedBody {
		for _, step := range buffering {
			var v verdict
			if step.Guard != nil {
				v = step.Guard.report(step, string(pluginhost.PhaseBodyFilter), ex.RequestID, errBufferLimit)
			}
			if !v.failOpen {
				return nil, &Error{Step: step, Phase: pluginhost.PhaseBodyFilter, Err: errBufferLimit, Suppressed: v.suppressed}
			}
		}
		return data, nil
	}

	body, err := c.runBodyFilter(ctx, c.stepsOf(pluginhost.PhaseBodyFilter), ex, data, true)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil, nil
}

// runBodyFilter runs the body_filter hooks of steps on one chunk and returns
// the chunk they left. An exit is not allowed there, so it is cleared.
func (c *Chain) runBodyFilter(ctx context.Context, steps []Step, ex *pluginhost.Exchange, chunk []byte, eof bool) ([]byte, error) {
	ex.Response.Chunk = chunk
	ex.Response.EOF = eof
	err := c.run(ctx, pluginhost.PhaseBodyFilter, steps, ex, nil)
	ex.Exit = nil

	out := ex.Response.Chunk
	ex.Response.Chunk = nil
	return out, err
}

// filteredBody is a response body whose every upstream read passes through
// the body_filter hooks before the proxy copies it to the client. Read and
// Close run on the handler's goroutine, like the other phases.
type filteredBody struct {
	chain    *Chain
	steps    []Step
	ctx      context.Context
	ex       *pluginhost.Exchange
	upstream io.ReadCloser
	buf      []byte

	// pending is filtered output not yet returned. It may alias buf, so buf
	// is only refilled once pending is empty.
	pending []byte
	// err is returned once pending is empty: io.EOF after the last call
	// with ctx.resp.eof set, or the failure that ended the body.
	err error
}

func (b *filteredBody) Read(p []byte) (int, error) {
	for len(b.pending) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		b.fill()
	}

	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

// fill reads once from the upstream and filters what arrived. The hooks see
// eof on the read that ends the body, or on an empty chunk after it.
func (b *filteredBody) fill() {
	n, readErr := b.upstream.Read(b.buf)
	eof := errors.Is(readErr, io.EOF)
	if readErr != nil && !eof {
		b.err = readErr
		return
	}
	if n == 0 && !eof {
		return
	}

	out, err := b.chain.runBodyFilter(b.ctx, b.steps, b.ex, b.buf[:n], eof)
	switch {
	case err != nil:
		// Returning an error makes the proxy abort the response, so the
		// client sees a broken stream, never a body that looks complete.
		b.err = err
	case eof:
		b.pending, b.err = out, io.EOF
	default:
		b.pending = out
	}
}

func (b *filteredBody) Close() error {
	return b.upstream.Close()
}

// joinedBody reads the buffered prefix and then the rest of the upstream
// body, and closes the upstream body.
type joinedBody struct {
	io.Reader
	closer io.Closer
}

func (b *joinedBody) Close() error {
	return b.closer.Close()
}
