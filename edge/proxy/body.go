package proxy

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// MaxReplayBody is the largest request body, in bytes, that the proxy
// buffers so it can send it again on a retry. A larger body, or one of
// unknown length, is streamed, and its request is retried only after a
// dial failure, before any of it was read.
const MaxReplayBody = 64 << 10

// replayBody gives each attempt of a request its body.
type replayBody struct {
	// buffered is the whole body of a small request, nil otherwise.
	buffered []byte
	// stream is the client's body when it is not buffered, nil for a
	// request without a body.
	stream *streamBody
	// failed is set when reading the body into the buffer failed.
	failed error
}

// newReplayBody buffers the body of req when it is small, of known length,
// and retries are on. Otherwise the body is streamed.
func newReplayBody(req *http.Request, retries int) *replayBody {
	if req.Body == nil || req.Body == http.NoBody {
		return &replayBody{}
	}
	if retries > 0 && req.ContentLength > 0 && req.ContentLength <= MaxReplayBody {
		buffered, err := io.ReadAll(io.LimitReader(req.Body, req.ContentLength))
		req.Body.Close()
		if err != nil {
			return &replayBody{failed: err}
		}
		return &replayBody{buffered: buffered}
	}
	return &replayBody{stream: &streamBody{body: req.Body}}
}

// next returns the body of the next attempt.
func (r *replayBody) next() io.ReadCloser {
	switch {
	case r.failed != nil:
		return io.NopCloser(errReader{r.failed})
	case r.buffered != nil:
		return io.NopCloser(bytes.NewReader(r.buffered))
	case r.stream != nil:
		return r.stream
	}
	return nil
}

// replayable reports whether another attempt can send the whole body
// again. A streamed body can be sent again only when the attempt failed to
// connect, because then the transport never started writing it, and when
// not a byte of it was read.
func (r *replayBody) replayable(dialFailed bool) bool {
	switch {
	case r.failed != nil:
		return false
	case r.stream != nil:
		return dialFailed && r.stream.read.Load() == 0
	}
	return true
}

// getBody returns the GetBody of an attempt's request: a fresh copy of a
// buffered body, or nil, which forbids the transport to resend it.
func (r *replayBody) getBody() func() (io.ReadCloser, error) {
	if r.buffered == nil {
		return nil
	}
	return func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(r.buffered)), nil
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// streamBody is the client's body shared by the attempts of one request.
// The transport's Close does not close it, so a later attempt can still
// use it. The server closes the client's body after the handler returns.
type streamBody struct {
	body io.ReadCloser
	read atomic.Int64
}

func (s *streamBody) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	s.read.Add(int64(n))
	return n, err
}

func (s *streamBody) Close() error { return nil }

// trackedBody runs done once, when the response body is closed. It keeps
// the Write method of an upgraded (101) connection's body, which
// httputil.ReverseProxy needs to relay both directions.
type trackedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func newTrackedBody(body io.ReadCloser, done func()) io.ReadCloser {
	tracked := &trackedBody{ReadCloser: body, done: done}
	if writer, ok := body.(io.ReadWriteCloser); ok {
		return &trackedConn{trackedBody: tracked, writer: writer}
	}
	return tracked
}

func (t *trackedBody) Close() error {
	err := t.ReadCloser.Close()
	t.once.Do(t.done)
	return err
}

type trackedConn struct {
	*trackedBody
	writer io.Writer
}

func (t *trackedConn) Write(p []byte) (int, error) {
	return t.writer.Write(p)
}
