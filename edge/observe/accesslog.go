package observe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Access log limits.
const (
	// MaxLoggedPath is the number of bytes of the request path that an
	// access log line keeps. A longer path is cut and ends in "...".
	MaxLoggedPath = 2048
	// MaxLoggedHost is the number of bytes of the Host header kept.
	MaxLoggedHost = 256
)

// AccessEntry is one request in the access log. The query string is never
// part of it, because queries can carry credentials such as API keys, and
// neither are request or response headers.
type AccessEntry struct {
	RequestID string
	// TraceID is the request's trace id, empty while tracing is off.
	TraceID  string
	Tenant   string
	Route    string
	Consumer string
	Method   string
	Host     string
	// Path is the request path without the query.
	Path       string
	Protocol   string
	ClientAddr string
	// Status is the status sent, or 499 when the client went away first.
	Status   int
	BytesIn  int64
	BytesOut int64
	Duration time.Duration
	// UpstreamDuration is the time to the upstream's response header,
	// zero when the request did not go upstream.
	UpstreamDuration time.Duration
	// UpstreamAddr is the host:port of the upstream target, empty when
	// the request did not go upstream.
	UpstreamAddr string
}

// AccessLog writes one JSON object per line and request. It is safe for
// concurrent use. A nil *AccessLog writes nothing.
type AccessLog struct {
	logger *slog.Logger
}

// NewAccessLog returns an access log that writes to w, or nil when w is
// nil. Each line is written with one call of w.Write.
func NewAccessLog(w io.Writer) *AccessLog {
	if w == nil {
		return nil
	}
	return &AccessLog{logger: slog.New(slog.NewJSONHandler(w, nil))}
}

// Write logs one request with the message "access".
func (a *AccessLog) Write(e *AccessEntry) {
	if a == nil {
		return
	}

	a.logger.LogAttrs(context.Background(), slog.LevelInfo, "access",
		slog.String("request_id", e.RequestID),
		slog.String("trace_id", e.TraceID),
		slog.String("tenant", e.Tenant),
		slog.String("route", e.Route),
		slog.String("consumer", e.Consumer),
		slog.String("method", e.Method),
		slog.String("host", truncate(e.Host, MaxLoggedHost)),
		slog.String("path", truncate(e.Path, MaxLoggedPath)),
		slog.String("protocol", e.Protocol),
		slog.String("client_addr", e.ClientAddr),
		slog.Int("status", e.Status),
		slog.Int64("bytes_in", e.BytesIn),
		slog.Int64("bytes_out", e.BytesOut),
		slog.Float64("duration_ms", milliseconds(e.Duration)),
		slog.Float64("upstream_duration_ms", milliseconds(e.UpstreamDuration)),
		slog.String("upstream_addr", e.UpstreamAddr),
	)
}

func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	// A cut inside a UTF-8 sequence drops the sequence's first bytes.
	return strings.ToValidUTF8(s[:limit-3], "") + "..."
}

// OpenAccessLog opens the destination of --access-log: "stdout", "stderr",
// or a file path, which is created with mode 0640 if missing and appended
// to. The caller closes the result; closing stdout or stderr does nothing.
//
// NOTE: the file is not reopened on a signal, so rotate it with a copy and
// truncate (logrotate's copytruncate).
func OpenAccessLog(destination string) (io.WriteCloser, error) {
	switch destination {
	case "":
		return nil, fmt.Errorf("access log destination is empty: use stdout, stderr or a file path")
	case "stdout":
		return nopCloser{os.Stdout}, nil
	case "stderr":
		return nopCloser{os.Stderr}, nil
	}

	file, err := os.OpenFile(destination, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open access log %q: %w", destination, err)
	}
	return file, nil
}

type nopCloser struct {
	io.Writer
}

func (nopCloser) Close() error {
	return nil
}
