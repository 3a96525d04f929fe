package edge

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"portcullis.dev/edge/problem"
)

// gRPC status codes that the edge sends itself, numbered as in
// google.golang.org/grpc/codes.
const (
	grpcDeadlineExceeded  = 4
	grpcPermissionDenied  = 7
	grpcResourceExhausted = 8
	grpcUnimplemented     = 12
	grpcInternal          = 13
	grpcUnavailable       = 14
	grpcUnauthenticated   = 16
)

// isGRPC reports whether r is a gRPC call: an HTTP/2 or HTTP/3 request with
// Content-Type application/grpc or application/grpc+<codec>.
func isGRPC(r *http.Request) bool {
	if r.ProtoMajor < 2 {
		return false
	}
	contentType := r.Header.Get("Content-Type")
	return contentType == "application/grpc" || strings.HasPrefix(contentType, "application/grpc+") || strings.HasPrefix(contentType, "application/grpc;")
}

// failRequest writes the failure of r: a gRPC status for a gRPC call, whose
// clients cannot read a problem document, and a problem document otherwise.
func (e *Edge) failRequest(w http.ResponseWriter, r *http.Request, state *requestState, err error) {
	if !isGRPC(r) {
		e.fail(w, r, state, err)
		return
	}

	status, detail := classify(r.Context(), err)
	state.status = status
	e.logFailure(state, status, err)
	if status == problem.StatusClientClosedRequest {
		return
	}
	writeGRPCStatus(w, grpcCode(status), detail+" Request id "+state.id+".")
}

// grpcCode maps the HTTP status of an edge failure to a gRPC status code,
// as gRPC's HTTP-to-gRPC status mapping does, except that the edge's own
// upstream timeout is DEADLINE_EXCEEDED.
func grpcCode(status int) int {
	switch status {
	case http.StatusGatewayTimeout:
		return grpcDeadlineExceeded
	case http.StatusUnauthorized:
		return grpcUnauthenticated
	case http.StatusForbidden:
		return grpcPermissionDenied
	case http.StatusNotFound:
		return grpcUnimplemented
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return grpcResourceExhausted
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return grpcUnavailable
	default:
		return grpcInternal
	}
}

// writeGRPCStatus writes a Trailers-Only gRPC response: status 200 and the
// grpc-status and grpc-message fields in one header block. grpc-message is
// percent-encoded, as gRPC clients decode it.
func writeGRPCStatus(w http.ResponseWriter, code int, message string) {
	header := w.Header()
	header.Set("Content-Type", "application/grpc")
	header.Set("Grpc-Status", strconv.Itoa(code))
	header.Set("Grpc-Message", url.PathEscape(message))
	w.WriteHeader(http.StatusOK)
}

// withGRPCDeadline returns r with a context that ends at the deadline in
// its grpc-timeout header, so the edge ends the upstream call when the
// client's deadline passes and responds DEADLINE_EXCEEDED. The header is
// forwarded unchanged. Other requests are returned as they are.
func withGRPCDeadline(r *http.Request) (*http.Request, context.CancelFunc) {
	timeout, ok := parseGRPCTimeout(r.Header.Get("Grpc-Timeout"))
	if !ok || !isGRPC(r) {
		return r, func() {}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return r.WithContext(ctx), cancel
}

// parseGRPCTimeout parses a grpc-timeout value: up to eight digits and a
// unit, H, M, S, m, u or n. A value too long for time.Duration sets no
// deadline.
func parseGRPCTimeout(value string) (time.Duration, bool) {
	if len(value) < 2 || len(value) > 9 {
		return 0, false
	}
	amount, err := strconv.ParseInt(value[:len(value)-1], 10, 64)
	if err != nil || amount < 0 {
		return 0, false
	}

	units := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second, 'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}
	unit, ok := units[value[len(value)-1]]
	if !ok {
		return 0, false
	}
	if amount > math.MaxInt64/int64(unit) {
		return 0, false
	}
	return time.Duration(amount) * unit, true
}
