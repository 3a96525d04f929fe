package proxy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNoHealthyTarget is returned when every target of the upstream is out
// of the rotation, so the request was not sent. The edge responds to it
// with 503.
var ErrNoHealthyTarget = errors.New("every target of the upstream is unhealthy")

// DialError is a failure to connect to a target: the request never
// reached it, so any request may be retried on another target.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("connect to upstream target %s: %v", e.Addr, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// ResponseHeaderTimeoutError is returned when a target sent no response
// header within the route's response header timeout. It matches
// context.DeadlineExceeded, so the edge responds with 504.
type ResponseHeaderTimeoutError struct {
	After time.Duration
}

func (e *ResponseHeaderTimeoutError) Error() string {
	return fmt.Sprintf("upstream sent no response header within %s", e.After)
}

// Is makes errors.Is(err, context.DeadlineExceeded) true.
func (e *ResponseHeaderTimeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

// Timeout reports true, as net.Error does for timeouts.
func (e *ResponseHeaderTimeoutError) Timeout() bool { return true }
