package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStatusClass(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{status: 200, want: "2xx"},
		{status: 304, want: "3xx"},
		{status: 499, want: "4xx"},
		{status: 504, want: "5xx"},
		{status: 0, want: "other"},
		{status: 600, want: "other"},
	}
	for _, tt := range tests {
		if got := StatusClass(tt.status); got != tt.want {
			t.Errorf("StatusClass(%d) = %q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestProtocol(t *testing.T) {
	tests := []struct {
		major int
		want  string
	}{
		{major: 1, want: "http/1.1"},
		{major: 2, want: "h2"},
		{major: 3, want: "h3"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/", nil)
		req.ProtoMajor = tt.major
		if got := Protocol(req); got != tt.want {
			t.Errorf("Protocol(major %d) = %q, want %q", tt.major, got, tt.want)
		}
	}
}

func TestForgetTenant(t *testing.T) {
	m := New()
	req := httptest.NewRequest("GET", "/", nil)
	m.ObserveRequest("acme", "main", req, 200, time.Millisecond)
	m.ObserveRequest("globex", "main", req, 500, time.Millisecond)
	m.ObserveUpstream("acme", "main", 200, time.Millisecond)
	m.ObservePlugin("acme", "auth", "1.0.0", "access", time.Millisecond, "timeout")

	m.ForgetTenant("acme")

	if got := testutil.CollectAndCount(m.requests); got != 1 {
		t.Errorf("request series = %d, want 1 after forgetting acme", got)
	}
	if got := testutil.CollectAndCount(m.duration); got != 1 {
		t.Errorf("request duration series = %d, want 1 after forgetting acme", got)
	}
	if got := testutil.CollectAndCount(m.upstreamDuration); got != 0 {
		t.Errorf("upstream duration series = %d, want 0", got)
	}
	if got := testutil.CollectAndCount(m.pluginErrors); got != 0 {
		t.Errorf("plugin error series = %d, want 0", got)
	}
	want := `portcullis_edge_requests_total{code="5xx",protocol="http/1.1",route="main",tenant="globex"} 1`
	if err := testutil.CollectAndCompare(m.requests, strings.NewReader("# HELP portcullis_edge_requests_total Requests served, by tenant, route, status class (2xx to 5xx) and protocol (http/1.1, h2, h3).\n# TYPE portcullis_edge_requests_total counter\n"+want+"\n")); err != nil {
		t.Errorf("requests after ForgetTenant: %v", err)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	req := httptest.NewRequest("GET", "/", nil)

	// None of these may panic on a nil receiver.
	m.ObserveRequest("acme", "main", req, 200, time.Millisecond)
	m.ObserveUpstream("acme", "main", 200, time.Millisecond)
	m.ObservePlugin("acme", "auth", "1.0.0", "access", time.Millisecond, "error")
	m.PluginTimer("auth", "access").Observe(time.Millisecond)
	m.PluginFailed("acme", "auth", "1.0.0", "error")
	m.TenantLoad("load", "ok")
	m.L1Hit()
	m.L1Miss()
	m.ForgetTenant("acme")
}
