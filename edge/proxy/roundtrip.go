package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"time"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/edge/health"
	"portcullis.dev/tenants/netguard"
)

// RoundTrip sends req to a target of the call's balancer and retries on
// another target when that is safe:
//
//   - the attempt failed without a response, and
//   - the request's body can be sent again (see replayBody), and
//   - the connection never reached the target (a dial failure), or the
//     method is idempotent (RFC 9110 section 9.2.2), and
//   - the upstream's retry count and its retry budget allow it.
//
// A response, whatever its status, is never retried, and neither is a
// response header timeout, which has spent the client's wait already.
// req must carry a Call (see WithCall).
func (u *Upstreams) RoundTrip(req *http.Request) (*http.Response, error) {
	call := callFrom(req.Context())
	b := call.Balancer
	upstream := &b.Upstream
	budget := u.budgets.get(upstream.Tenant, upstream.Name)
	budget.Request()

	body := newReplayBody(req, upstream.Retries)

	states := u.health.Targets(upstream.Tenant, upstream.Name, b.URLs())
	candidates := &candidates{states: states, now: u.health.Now()}

	var failed attempts
	for attempt := 0; ; attempt++ {
		i, ok := b.Pick(req, candidates)
		if !ok {
			if failed.last != nil {
				return nil, failed.err()
			}
			return nil, ErrNoHealthyTarget
		}
		candidates.tried |= 1 << i

		resp, err := u.try(req, b, i, states[i], body)
		if err == nil {
			return resp, nil
		}
		failed.add(err)

		if !u.mayRetry(req, upstream, attempt, body, err) {
			return nil, failed.err()
		}
		if !budget.Withdraw() {
			u.logBudgetExhausted(upstream, err)
			return nil, failed.err()
		}
	}
}

// attempts are the errors of a request's failed attempts: the last one,
// and the first that the upstream guard blocked.
type attempts struct {
	last, blocked error
}

func (a *attempts) add(err error) {
	a.last = err
	if a.blocked == nil && errors.As(err, new(*netguard.BlockedError)) {
		a.blocked = err
	}
}

// err returns the last attempt's error. When an earlier attempt was
// blocked, its error is named too, so that the log of a request that ended
// on another target's failure shows the blocked target.
func (a *attempts) err() error {
	if a.blocked == nil || a.blocked == a.last {
		return a.last
	}
	return &blockedAttemptError{last: a.last, blocked: a.blocked}
}

// blockedAttemptError is the error of a request whose last attempt failed
// after the guard had blocked an earlier one. It unwraps to the last
// attempt's error alone, which decides the response.
type blockedAttemptError struct {
	last, blocked error
}

func (e *blockedAttemptError) Error() string {
	return e.last.Error() + "; an earlier attempt: " + e.blocked.Error()
}

func (e *blockedAttemptError) Unwrap() error { return e.last }

// try sends one attempt to target i.
func (u *Upstreams) try(req *http.Request, b *balancer.Balancer, i int, state *health.Target, body *replayBody) (*http.Response, error) {
	upstream := &b.Upstream
	call := callFrom(req.Context())
	call.Target = b.Target(i)

	ctx, cancel, timer, headerTimeout := u.attemptContext(req.Context(), upstream.Timeouts)
	// A shallow copy with its own URL: SetURL rewrites the URL in place,
	// while the transport only reads the header, which the attempts share.
	out := req.WithContext(ctx)
	target := *req.URL
	out.URL = &target
	(&httputil.ProxyRequest{Out: out}).SetURL(call.Target)
	out.Body, out.GetBody = body.next(), body.getBody()

	state.Begin()
	transport := u.transports.get(upstream, idleTimeout(upstream.Timeouts))
	resp, err := transport.RoundTrip(out)
	timedOut := !timer.Stop()

	if err == nil && timedOut {
		// The timer fired as the header arrived: the body's context is
		// already canceled, so the response is lost.
		resp.Body.Close()
		err = &ResponseHeaderTimeoutError{After: headerTimeout}
	}
	if err != nil {
		state.Done()
		cause := context.Cause(ctx)
		cancel(nil)
		if timeoutErr := (*ResponseHeaderTimeoutError)(nil); errors.As(cause, &timeoutErr) && req.Context().Err() == nil {
			err = timeoutErr
		}
		u.reportFailure(upstream, state, err, req)
		return nil, err
	}

	if resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout {
		u.reportFailure(upstream, state, fmt.Errorf("upstream responded with status %d", resp.StatusCode), req)
	}
	resp.Body = newTrackedBody(resp.Body, func() {
		state.Done()
		cancel(nil)
	})
	return resp, nil
}

// reportFailure counts a failed attempt for passive health checks. A client
// that went away is not counted, because the target may be healthy.
func (u *Upstreams) reportFailure(upstream *balancer.Upstream, state *health.Target, err error, req *http.Request) {
	if req.Context().Err() != nil {
		return
	}
	if state.ReportFailure(upstream.Passive, u.health.Now()) {
		key := state.Key()
		u.log.Error("upstream target failed too often; taken out of the rotation for its cool-down", "tenant", key.Tenant, "upstream", key.Upstream, "target", key.Target, "error", err)
	}
}

func (u *Upstreams) mayRetry(req *http.Request, upstream *balancer.Upstream, attempt int, body *replayBody, err error) bool {
	if attempt >= upstream.Retries || req.Context().Err() != nil {
		return false
	}
	var timeoutErr *ResponseHeaderTimeoutError
	if errors.As(err, &timeoutErr) {
		return false
	}

	var dialErr *DialError
	dialFailed := errors.As(err, &dialErr)
	if !body.replayable(dialFailed) {
		return false
	}
	return dialFailed || isIdempotent(req.Method)
}

// isIdempotent reports whether method is idempotent by RFC 9110 section
// 9.2.2: the safe methods, PUT and DELETE.
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// candidates reports the targets available to one request: healthy and
// not tried yet.
type candidates struct {
	states []*health.Target
	now    time.Time
	tried  uint64
}

func (c *candidates) Available(i int) bool {
	return c.tried&(1<<i) == 0 && c.states[i].Available(c.now)
}

func (c *candidates) Load(i int) int64 {
	return c.states[i].Load()
}
