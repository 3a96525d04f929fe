package pluginhost

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Host is the edge's side of the host API: per-tenant state, rate limits,
// outbound HTTP, logs and the request body. The edge passes one per request
// in Exchange.Host. Every method receives and returns plain data, so a
// worker-process tier could serve it over RPC.
type Host interface {
	// KVGet returns a value of the tenant's key-value store.
	KVGet(key string) (value any, found bool)
	// KVSet stores a JSON-like value. A ttl of zero keeps it until evicted.
	KVSet(key string, value any, ttl time.Duration) error
	// KVDelete removes a key. Removing an absent key is fine.
	KVDelete(key string)
	// KVIncr adds by to an integer counter, creating it at zero, and
	// returns the new value.
	KVIncr(key string, by int64, ttl time.Duration) (int64, error)

	// Limit counts one request against key in a fixed window of the
	// tenant's limiter: "local" for this edge's memory, "redis" for the
	// shared Redis.
	Limit(ctx context.Context, backend, key string, limit int64, window time.Duration) (LimitResult, error)

	// Fetch sends an outbound HTTP request for caller, which the host
	// allows only to caller.AllowHosts.
	Fetch(ctx context.Context, caller Caller, req OutboundRequest) (OutboundResponse, error)

	// Log writes a plugin's log line, tagged with the caller's ids.
	Log(caller Caller, level slog.Level, message string, fields map[string]any)

	// ReadBody returns up to limit bytes of the request body. The edge
	// keeps what it read and sends it to the upstream.
	ReadBody(limit int) ([]byte, error)
}

// Caller names the binding whose hook calls the host.
type Caller struct {
	Tenant     string
	Binding    string
	Plugin     string
	Version    string
	RequestID  string
	AllowHosts []string
}

// LimitResult is the state of one rate-limit key after a request was counted.
type LimitResult struct {
	Allowed   bool
	Limit     int64
	Remaining int64
	// Reset is the time until the window ends.
	Reset time.Duration
}

// OutboundRequest is an HTTP request that a plugin sends with ctx.http.
type OutboundRequest struct {
	Method  string
	URL     string
	Header  http.Header
	Body    []byte
	Timeout time.Duration
}

// OutboundResponse is the response to an OutboundRequest.
type OutboundResponse struct {
	Status int
	Header http.Header
	Body   []byte
}
