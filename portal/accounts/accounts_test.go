package accounts

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		wantOK   bool
	}{
		{"minimum length", strings.Repeat("a", MinPasswordBytes), true},
		{"maximum length", strings.Repeat("a", MaxPasswordBytes), true},
		{"one byte short", strings.Repeat("a", MinPasswordBytes-1), false},
		{"one byte long", strings.Repeat("a", MaxPasswordBytes+1), false},
		{"only spaces", strings.Repeat(" ", MinPasswordBytes), false},
		{"invalid utf-8", strings.Repeat("\xff", MinPasswordBytes), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issue := CheckPassword(tt.password)
			if got := issue == nil; got != tt.wantOK {
				t.Fatalf("CheckPassword() = %v, want ok %v", issue, tt.wantOK)
			}
			if issue == nil {
				return
			}
			if issue.Field != "password" {
				t.Errorf("CheckPassword() field = %q, want password", issue.Field)
			}
			if strings.Contains(issue.Message, tt.password) {
				t.Errorf("CheckPassword() message %q repeats the password", issue.Message)
			}
		})
	}
}

func TestHashPasswordVerifies(t *testing.T) {
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatalf("HashPassword() error = %v", err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q, want an argon2id PHC string", hash)
	}
	if err := VerifyPassword(hash, "correct horse battery"); err != nil {
		t.Errorf("VerifyPassword(right) error = %v, want nil", err)
	}
	if err := VerifyPassword(hash, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Errorf("VerifyPassword(wrong) error = %v, want ErrMismatch", err)
	}
	if err := VerifyPassword("$2a$10$notargon", "x"); err == nil || errors.Is(err, ErrMismatch) {
		t.Errorf("VerifyPassword(bcrypt hash) error = %v, want a format error", err)
	}

	again, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatalf("HashPassword() error = %v", err)
	}
	if again == hash {
		t.Errorf("two hashes of one password are equal, want different salts")
	}
}

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		email  string
		wantOK bool
	}{
		{"ada@example.com", true},
		{"", false},
		{"ada", false},
		{"Ada <ada@example.com>", false},
		{strings.Repeat("a", 250) + "@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			issue := CheckEmail(tt.email)
			if got := issue == nil; got != tt.wantOK {
				t.Fatalf("CheckEmail(%q) ok = %v, want %v", tt.email, got, tt.wantOK)
			}
			if issue != nil && issue.Field != "email" {
				t.Errorf("CheckEmail(%q) field = %q, want email", tt.email, issue.Field)
			}
		})
	}
}

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		role, need Role
		want       bool
	}{
		{RoleOwner, RoleAdmin, true},
		{RoleAdmin, RoleAdmin, true},
		{RoleDeveloper, RoleAdmin, false},
		{RoleViewer, RoleDeveloper, false},
		{RoleViewer, RoleViewer, true},
		{Role("boss"), RoleViewer, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+" needs "+string(tt.need), func(t *testing.T) {
			if got := tt.role.Allows(tt.need); got != tt.want {
				t.Errorf("%s.Allows(%s) = %v, want %v", tt.role, tt.need, got, tt.want)
			}
		})
	}
}

func TestCheckRole(t *testing.T) {
	for _, role := range []Role{RoleOwner, RoleAdmin, RoleDeveloper, RoleViewer} {
		if issue := CheckRole(role); issue != nil {
			t.Errorf("CheckRole(%q) = %v, want nil", role, issue)
		}
	}

	issue := CheckRole("boss")
	if issue == nil {
		t.Fatal("CheckRole(boss) = nil, want a field error")
	}
	if issue.Field != "role" {
		t.Errorf("CheckRole(boss) field = %q, want role", issue.Field)
	}
	if want := `role "boss" is unknown: use owner, admin, developer or viewer`; issue.Message != want {
		t.Errorf("CheckRole(boss) message = %q, want %q", issue.Message, want)
	}
}

func TestLimiterRefills(t *testing.T) {
	clock := time.Unix(1000, 0)
	limiter := NewLimiter(2, 10*time.Second, 10)
	limiter.now = func() time.Time { return clock }

	for attempt := 1; attempt <= 2; attempt++ {
		if ok, _ := limiter.Allow("a"); !ok {
			t.Fatalf("attempt %d rejected, want the burst of 2 allowed", attempt)
		}
	}
	ok, wait := limiter.Allow("a")
	if ok || wait != 10*time.Second {
		t.Errorf("third attempt = %v, wait %v; want rejected with wait 10s", ok, wait)
	}
	if ok, _ := limiter.Allow("b"); !ok {
		t.Errorf("other key rejected, want its own bucket")
	}

	clock = clock.Add(4 * time.Second)
	if _, wait := limiter.Allow("a"); wait != 6*time.Second {
		t.Errorf("wait after 4s = %v, want 6s", wait)
	}
	clock = clock.Add(6 * time.Second)
	if ok, _ := limiter.Allow("a"); !ok {
		t.Errorf("attempt after a full interval rejected, want allowed")
	}
}

func TestLimiterBoundsKeys(t *testing.T) {
	clock := time.Unix(1000, 0)
	limiter := NewLimiter(1, time.Minute, 2)
	limiter.now = func() time.Time { return clock }

	limiter.Allow("a")
	limiter.Allow("b")
	if ok, _ := limiter.Allow("c"); ok {
		t.Errorf("third key allowed while both tracked keys are empty, want rejected")
	}

	clock = clock.Add(time.Minute)
	if ok, _ := limiter.Allow("c"); !ok {
		t.Errorf("third key rejected after the others refilled, want allowed")
	}
	if got := len(limiter.buckets); got > 2 {
		t.Errorf("tracked keys = %d, want at most 2", got)
	}
}
