package config

import "time"

// Timeouts bound the exchange of a route with its upstream. The zero value
// of each field means the edge's default.
type Timeouts struct {
	// ConnectMS bounds the TCP connect and TLS handshake to a target, in
	// milliseconds. Zero means DefaultConnectTimeout.
	ConnectMS int `json:"connect_ms,omitempty"`
	// ResponseHeaderMS bounds the wait for a target's response header
	// after the request is sent, in milliseconds. Past it the client gets
	// a 504. Zero means the edge's upstream timeout (60 s by default).
	ResponseHeaderMS int `json:"response_header_ms,omitempty"`
	// IdleMS is how long an unused connection to a target stays in the
	// pool, in milliseconds. Zero means DefaultIdleConnTimeout.
	IdleMS int `json:"idle_ms,omitempty"`
}

// Defaults and limits of route timeouts.
const (
	DefaultConnectTimeout     = 5 * time.Second
	MaxConnectTimeout         = time.Minute
	MaxResponseHeaderTimeout  = 10 * time.Minute
	DefaultIdleConnTimeout    = 90 * time.Second
	MaxIdleConnTimeout        = time.Hour
	minUpstreamTimeout        = 10 * time.Millisecond
	defaultResponseHeaderHint = 60 * time.Second
)

// Connect returns the connect timeout with the default filled in.
func (t Timeouts) Connect() time.Duration {
	return msOr(t.ConnectMS, DefaultConnectTimeout)
}

// ResponseHeader returns the response header timeout, or def when it is
// zero.
func (t Timeouts) ResponseHeader(def time.Duration) time.Duration {
	return msOr(t.ResponseHeaderMS, def)
}

// Idle returns the idle connection timeout with the default filled in.
func (t Timeouts) Idle() time.Duration {
	return msOr(t.IdleMS, DefaultIdleConnTimeout)
}

// Validate checks the three timeouts, each under "timeouts.".
func (t Timeouts) Validate() error {
	if err := msInRange("timeouts.connect_ms", t.ConnectMS, minUpstreamTimeout, MaxConnectTimeout, DefaultConnectTimeout); err != nil {
		return err
	}
	if err := msInRange("timeouts.response_header_ms", t.ResponseHeaderMS, minUpstreamTimeout, MaxResponseHeaderTimeout, defaultResponseHeaderHint); err != nil {
		return err
	}
	return msInRange("timeouts.idle_ms", t.IdleMS, time.Second, MaxIdleConnTimeout, DefaultIdleConnTimeout)
}
