package edge

import (
	"errors"
	"fmt"
	"net/http"
)

// bodyTooLargeError is a request body above its route's limit. The edge
// responds to it with 413.
type bodyTooLargeError struct {
	limit int64
}

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("request body is larger than the route's limit of %d bytes", e.limit)
}

// limitBody enforces a route's body limit. A Content-Length above limit
// fails at once. Any other body, chunked or of unknown length, is wrapped
// so that reading past limit fails with *http.MaxBytesError, which ends the
// proxied request with 413 and closes the client connection after it.
func limitBody(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return &bodyTooLargeError{limit: limit}
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	return nil
}

// isBodyTooLarge reports whether err comes from a body above its limit,
// found before the proxy ran or while it read the body.
func isBodyTooLarge(err error) bool {
	var early *bodyTooLargeError
	var late *http.MaxBytesError
	return errors.As(err, &early) || errors.As(err, &late)
}
