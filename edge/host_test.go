package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/tenants/bundle"
)

func TestTenantFromHost(t *testing.T) {
	tests := []struct {
		host   string
		want   string
		wantOK bool
	}{
		{host: "acme.localhost", want: "acme", wantOK: true},
		{host: "acme.localhost:8443", want: "acme", wantOK: true},
		{host: "ACME.LOCALHOST", want: "acme", wantOK: true},
		{host: "acme.localhost.", want: "acme", wantOK: true},
		{host: "a-1.localhost", want: "a-1", wantOK: true},
		{host: "localhost", wantOK: false},
		{host: ".localhost", wantOK: false},
		{host: "a.b.localhost", wantOK: false},
		{host: "acme.localhost.evil", wantOK: false},
		{host: "acmelocalhost", wantOK: false},
		{host: "acme_x.localhost", wantOK: false},
		{host: "[::1]:8080", wantOK: false},
		{host: "", wantOK: false},
	}
	for _, tt := range tests {
		got, ok := tenantFromHost(tt.host, "localhost")
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("tenantFromHost(%q) = %q, %t; want %q, %t", tt.host, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{path: "/", want: "/"},
		{path: "/a/b", want: "/a/b"},
		{path: "/a/b/", want: "/a/b/"},
		{path: "/a/../b", want: "/b"},
		{path: "/a/./b/", want: "/a/b/"},
		{path: "//a//b", want: "/a/b"},
		{path: "/..", want: "/"},
		{path: "*", want: "*"},
		{path: "", want: ""},
	}
	for _, tt := range tests {
		if got := cleanPath(tt.path); got != tt.want {
			t.Errorf("cleanPath(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

// timeoutError is a net.Error that timed out, as the transport returns.
type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout awaiting response headers" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{name: "client gone", ctx: canceled, err: context.Canceled, want: 499},
		{name: "unknown host", err: fmt.Errorf("host %q: %w", "x", errUnknownHost), want: http.StatusNotFound},
		{name: "unknown tenant", err: fmt.Errorf("tenant: %w", bundle.ErrTenantNotFound), want: http.StatusNotFound},
		{name: "no route", err: errNoRoute, want: http.StatusNotFound},
		{name: "plugin", err: &chain.Error{Err: errors.New("boom")}, want: http.StatusInternalServerError},
		{name: "config unavailable", err: fmt.Errorf("%w: %w", errTenantUnavailable, errors.New("db down")), want: http.StatusServiceUnavailable},
		{name: "upstream timeout", err: timeoutError{}, want: http.StatusGatewayTimeout},
		{name: "deadline", err: context.DeadlineExceeded, want: http.StatusGatewayTimeout},
		{name: "connection refused", err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}, want: http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			got, detail := classify(ctx, tt.err)
			if got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
			if detail == "" {
				t.Error("detail is empty")
			}
		})
	}
}
