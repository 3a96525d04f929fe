package config

import (
	"fmt"
	"strings"
	"time"
)

// HealthCheck configures the checks that separate healthy targets from
// unhealthy ones. A nil Active or Passive turns that kind of check off. An unhealthy
// target leaves the rotation until it is healthy again.
type HealthCheck struct {
	Active  *ActiveCheck  `json:"active,omitempty"`
	Passive *PassiveCheck `json:"passive,omitempty"`
}

// ActiveCheck probes every target of the upstream with GET requests. The
// zero value of each field means its default.
type ActiveCheck struct {
	// Path is the absolute path probed on each target, such as
	// "/healthz". Empty means "/".
	Path string `json:"path,omitempty"`
	// IntervalMS is the time between probes of one target, in
	// milliseconds. Zero means DefaultCheckInterval.
	IntervalMS int `json:"interval_ms,omitempty"`
	// TimeoutMS bounds one probe, in milliseconds. It must be below the
	// interval. Zero means DefaultCheckTimeout or half the interval,
	// whichever is shorter.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// HealthyThreshold is the number of passed probes in a row that bring
	// an unhealthy target back. Zero means DefaultHealthyThreshold.
	HealthyThreshold int `json:"healthy_threshold,omitempty"`
	// UnhealthyThreshold is the number of failed probes in a row that take
	// a target out. Zero means DefaultUnhealthyThreshold.
	UnhealthyThreshold int `json:"unhealthy_threshold,omitempty"`
	// ExpectedStatuses are the response statuses that pass a probe. Empty
	// means any 2xx or 3xx status.
	ExpectedStatuses []int `json:"expected_statuses,omitempty"`
}

// PassiveCheck takes a target out of the rotation after MaxFailures failed
// requests within Window, for Cooldown. A failed request is one that got no
// response (a connection error or timeout) or a 502, 503 or 504 response.
type PassiveCheck struct {
	// MaxFailures is the number of failures that take a target out. Zero
	// means DefaultPassiveFailures.
	MaxFailures int `json:"max_failures,omitempty"`
	// WindowMS is the time window that failures are counted in, in
	// milliseconds. Zero means DefaultPassiveWindow.
	WindowMS int `json:"window_ms,omitempty"`
	// CooldownMS is how long a target stays out, in milliseconds. Zero
	// means DefaultPassiveCooldown.
	CooldownMS int `json:"cooldown_ms,omitempty"`
}

// Defaults and limits of health checks.
const (
	DefaultCheckPath          = "/"
	DefaultCheckInterval      = 10 * time.Second
	MinCheckInterval          = time.Second
	MaxCheckInterval          = time.Hour
	DefaultCheckTimeout       = 2 * time.Second
	MinCheckTimeout           = 100 * time.Millisecond
	DefaultHealthyThreshold   = 2
	DefaultUnhealthyThreshold = 3
	MaxThreshold              = 10
	MaxExpectedStatuses       = 16

	DefaultPassiveFailures = 5
	MaxPassiveFailures     = 100
	DefaultPassiveWindow   = 10 * time.Second
	MinPassiveWindow       = time.Second
	MaxPassiveWindow       = 10 * time.Minute
	DefaultPassiveCooldown = 30 * time.Second
	MinPassiveCooldown     = time.Second
	MaxPassiveCooldown     = time.Hour
)

// CheckPath returns the probed path with the default filled in.
func (a *ActiveCheck) CheckPath() string {
	if a.Path == "" {
		return DefaultCheckPath
	}
	return a.Path
}

// Interval returns the time between probes with the default filled in.
func (a *ActiveCheck) Interval() time.Duration {
	return msOr(a.IntervalMS, DefaultCheckInterval)
}

// Timeout returns the probe deadline with the default filled in.
func (a *ActiveCheck) Timeout() time.Duration {
	if a.TimeoutMS <= 0 {
		return min(DefaultCheckTimeout, a.Interval()/2)
	}
	return time.Duration(a.TimeoutMS) * time.Millisecond
}

// Thresholds returns the healthy and unhealthy thresholds with the defaults
// filled in.
func (a *ActiveCheck) Thresholds() (healthy, unhealthy int) {
	return intOr(a.HealthyThreshold, DefaultHealthyThreshold), intOr(a.UnhealthyThreshold, DefaultUnhealthyThreshold)
}

// Passes reports whether a probe response with status passes.
func (a *ActiveCheck) Passes(status int) bool {
	if len(a.ExpectedStatuses) == 0 {
		return status >= 200 && status < 400
	}
	for _, expected := range a.ExpectedStatuses {
		if status == expected {
			return true
		}
	}
	return false
}

// Limits returns the failure count, window and cool-down with the defaults
// filled in.
func (p *PassiveCheck) Limits() (failures int, window, cooldown time.Duration) {
	return intOr(p.MaxFailures, DefaultPassiveFailures), msOr(p.WindowMS, DefaultPassiveWindow), msOr(p.CooldownMS, DefaultPassiveCooldown)
}

func (h *HealthCheck) validate(field string) error {
	if h.Active != nil {
		if err := h.Active.validate(field + ".active"); err != nil {
			return err
		}
	}
	if h.Passive != nil {
		return h.Passive.validate(field + ".passive")
	}
	return nil
}

func (a *ActiveCheck) validate(field string) error {
	if a.Path != "" && (!strings.HasPrefix(a.Path, "/") || strings.HasPrefix(a.Path, "//") || len(a.Path) > MaxPathLength || strings.ContainsAny(a.Path, "# \t\r\n\\")) {
		return invalid(field+".path", "%q is not a valid check path: use an absolute path such as \"/healthz\", with at most %d characters, an optional query and no host", a.Path, MaxPathLength)
	}
	if err := msInRange(field+".interval_ms", a.IntervalMS, MinCheckInterval, MaxCheckInterval, DefaultCheckInterval); err != nil {
		return err
	}
	if err := msInRange(field+".timeout_ms", a.TimeoutMS, MinCheckTimeout, MaxCheckInterval, DefaultCheckTimeout); err != nil {
		return err
	}
	if a.Timeout() >= a.Interval() {
		return invalid(field+".timeout_ms", "timeout %s is not below the interval %s: lower timeout_ms or raise interval_ms", a.Timeout(), a.Interval())
	}
	if a.HealthyThreshold < 0 || a.HealthyThreshold > MaxThreshold {
		return invalid(field+".healthy_threshold", "healthy_threshold %d is out of range: use 1 to %d, or 0 for the default of %d", a.HealthyThreshold, MaxThreshold, DefaultHealthyThreshold)
	}
	if a.UnhealthyThreshold < 0 || a.UnhealthyThreshold > MaxThreshold {
		return invalid(field+".unhealthy_threshold", "unhealthy_threshold %d is out of range: use 1 to %d, or 0 for the default of %d", a.UnhealthyThreshold, MaxThreshold, DefaultUnhealthyThreshold)
	}
	if len(a.ExpectedStatuses) > MaxExpectedStatuses {
		return invalid(field+".expected_statuses", "expected_statuses has %d entries, above the limit of %d", len(a.ExpectedStatuses), MaxExpectedStatuses)
	}
	for i, status := range a.ExpectedStatuses {
		if status < 100 || status > 599 {
			return invalid(fmt.Sprintf("%s.expected_statuses[%d]", field, i), "%d is not an HTTP status: use 100 to 599", status)
		}
	}
	return nil
}

func (p *PassiveCheck) validate(field string) error {
	if p.MaxFailures < 0 || p.MaxFailures > MaxPassiveFailures {
		return invalid(field+".max_failures", "max_failures %d is out of range: use 1 to %d, or 0 for the default of %d", p.MaxFailures, MaxPassiveFailures, DefaultPassiveFailures)
	}
	if err := msInRange(field+".window_ms", p.WindowMS, MinPassiveWindow, MaxPassiveWindow, DefaultPassiveWindow); err != nil {
		return err
	}
	return msInRange(field+".cooldown_ms", p.CooldownMS, MinPassiveCooldown, MaxPassiveCooldown, DefaultPassiveCooldown)
}

// msInRange checks a millisecond field whose zero value means def.
func msInRange(field string, ms int, low, high, def time.Duration) error {
	if ms == 0 {
		return nil
	}
	if ms < 0 || time.Duration(ms)*time.Millisecond < low || time.Duration(ms)*time.Millisecond > high {
		name := field[strings.LastIndex(field, ".")+1:]
		return invalid(field, "%s %d is out of range: use %d to %d, or 0 for the default of %d", name, ms, low.Milliseconds(), high.Milliseconds(), def.Milliseconds())
	}
	return nil
}

func msOr(ms int, def time.Duration) time.Duration {
	if ms <= 0 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}

func intOr(value, def int) int {
	if value <= 0 {
		return def
	}
	return value
}
