package config

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestUpstreamValidateFields(t *testing.T) {
	base := func() Upstream {
		return Upstream{Name: "api", Targets: []Target{{URL: "http://127.0.0.1:9000"}}}
	}
	tests := []struct {
		desc      string
		change    func(*Upstream)
		wantField string
	}{
		{"defaults", func(*Upstream) {}, ""},
		{"least conn", func(u *Upstream) { u.Balance = BalanceLeastConn }, ""},
		{"hash on cookie", func(u *Upstream) { u.Balance, u.HashOn, u.HashKey = BalanceConsistentHash, HashOnCookie, "sid" }, ""},
		{"unknown balance", func(u *Upstream) { u.Balance = "random" }, "balance"},
		{"hash_on without hashing", func(u *Upstream) { u.HashOn = HashOnHeader }, "hash_on"},
		{"header without name", func(u *Upstream) { u.Balance, u.HashOn = BalanceConsistentHash, HashOnHeader }, "hash_key"},
		{"header name with colon", func(u *Upstream) { u.Balance, u.HashOn, u.HashKey = BalanceConsistentHash, HashOnHeader, "X:User" }, "hash_key"},
		{"duplicate target", func(u *Upstream) { u.Targets = append(u.Targets, u.Targets[0]) }, "targets[1].url"},
		{"retries above max", func(u *Upstream) { u.Retries = new(MaxRetries + 1) }, "retries"},
		{"zero retries", func(u *Upstream) { u.Retries = new(0) }, ""},
		{"h2c over http", func(u *Upstream) { u.Protocol = ProtocolH2C }, ""},
		{"h2 over http", func(u *Upstream) { u.Protocol = ProtocolH2 }, "targets[0].url"},
		{"unknown protocol", func(u *Upstream) { u.Protocol = "spdy" }, "protocol"},
		{"ca not PEM", func(u *Upstream) { u.TLS = &UpstreamTLS{CAPEM: "x"} }, "tls.ca_pem"},
		{"server name with port", func(u *Upstream) { u.TLS = &UpstreamTLS{ServerName: "api.internal:443"} }, "tls.server_name"},
		{"check path with host", func(u *Upstream) { u.HealthCheck = &HealthCheck{Active: &ActiveCheck{Path: "//evil.example"}} }, "health_check.active.path"},
		{"check timeout at interval", func(u *Upstream) {
			u.HealthCheck = &HealthCheck{Active: &ActiveCheck{IntervalMS: 2000, TimeoutMS: 2000}}
		}, "health_check.active.timeout_ms"},
		{"check default timeout above interval", func(u *Upstream) {
			u.HealthCheck = &HealthCheck{Active: &ActiveCheck{IntervalMS: 1000}}
		}, ""},
		{"expected status out of range", func(u *Upstream) {
			u.HealthCheck = &HealthCheck{Active: &ActiveCheck{ExpectedStatuses: []int{99}}}
		}, "health_check.active.expected_statuses[0]"},
		{"passive window too short", func(u *Upstream) { u.HealthCheck = &HealthCheck{Passive: &PassiveCheck{WindowMS: 999}} }, "health_check.passive.window_ms"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			upstream := base()
			tt.change(&upstream)
			err := upstream.Validate()

			var fieldErr *FieldError
			switch {
			case tt.wantField == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantField != "" && (!errors.As(err, &fieldErr) || fieldErr.Field != tt.wantField):
				t.Errorf("Validate() = %v, want a field error on %q", err, tt.wantField)
			}
		})
	}
}

func TestTimeoutsValidateAndDefaults(t *testing.T) {
	if err := (Timeouts{ConnectMS: 5}).Validate(); err == nil {
		t.Error("connect_ms 5 passed, want an error below 10 ms")
	}
	if err := (Timeouts{IdleMS: int(MaxIdleConnTimeout.Milliseconds()) + 1}).Validate(); err == nil {
		t.Error("idle_ms above the maximum passed")
	}

	var zero Timeouts
	if zero.Connect() != DefaultConnectTimeout || zero.Idle() != DefaultIdleConnTimeout || zero.ResponseHeader(7*time.Second) != 7*time.Second {
		t.Errorf("zero timeouts = %s, %s, %s; want the defaults", zero.Connect(), zero.Idle(), zero.ResponseHeader(7*time.Second))
	}

	encoded, _ := json.Marshal(Route{Name: "r"})
	var fields map[string]any
	_ = json.Unmarshal(encoded, &fields)
	if _, ok := fields["timeouts"]; ok {
		t.Errorf("route without timeouts encodes %s, want no timeouts field", encoded)
	}
}

func TestActiveCheckPasses(t *testing.T) {
	defaults := ActiveCheck{}
	for status, want := range map[int]bool{200: true, 204: true, 302: true, 404: false, 503: false} {
		if got := defaults.Passes(status); got != want {
			t.Errorf("default Passes(%d) = %v, want %v", status, got, want)
		}
	}
	only := ActiveCheck{ExpectedStatuses: []int{418}}
	if only.Passes(200) {
		t.Error("expected_statuses [418] passed 200, want only 418 to pass")
	}
	if !only.Passes(418) {
		t.Error("expected_statuses [418] failed 418, want it to pass")
	}
}
