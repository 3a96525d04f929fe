package observe

import (
	"io"
	"net/http"
)

// CountingBody is a request body that counts the bytes read from it.
type CountingBody struct {
	io.ReadCloser
	N int64
}

func (b *CountingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.N += int64(n)
	return n, err
}

// CountingWriter is a response writer that counts the body bytes written.
// Unwrap gives http.ResponseController the writer beneath, for Flush,
// Hijack and deadlines.
type CountingWriter struct {
	http.ResponseWriter
	N int64
}

func (w *CountingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.N += int64(n)
	return n, err
}

// Flush sends buffered data to the client, for callers that check for
// http.Flusher instead of using http.ResponseController.
func (w *CountingWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the writer beneath.
func (w *CountingWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

var (
	_ http.Flusher  = (*CountingWriter)(nil)
	_ io.ReadCloser = (*CountingBody)(nil)
)
