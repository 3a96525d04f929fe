package pluginhost

import (
	"context"
	"strings"
	"testing"
)

// directoryHost is a Host with a fixed consumer directory. Only the
// consumer methods are implemented; the embedded nil Host makes any other
// call panic, which fails the test.
type directoryHost struct {
	Host
	byKey map[string]string
	keys  map[string][]ConsumerKey
}

func (h directoryHost) ConsumerByKey(key string) (string, bool) {
	name, found := h.byKey[key]
	return name, found
}

func (h directoryHost) ConsumerExists(name string) bool {
	for _, known := range h.byKey {
		if known == name {
			return true
		}
	}
	_, found := h.keys[name]
	return found
}

func (h directoryHost) ConsumerKeys(name string) []ConsumerKey {
	return h.keys[name]
}

func newDirectory() directoryHost {
	return directoryHost{
		byKey: map[string]string{"k-alice": "alice"},
		keys:  map[string][]ConsumerKey{"carol": {{Algorithm: "EdDSA", PublicKey: "PEM"}}},
	}
}

func TestConsumerIdentify(t *testing.T) {
	instance := mustBind(t, `func rewrite(ctx, conf) {
	before := ctx.consumer.name()
	name := ctx.consumer.by_key(ctx.req.header("X-Key"))
	if name != nil {
		ctx.consumer.set(name)
	}
	ctx.vars["before"] = before
	ctx.vars["after"] = ctx.req.consumer
	ctx.vars["keys"] = len(ctx.consumer.keys("carol"))
}
`, `{}`)

	tests := []struct {
		key       string
		wantAfter string
	}{
		{"k-alice", "alice"},
		{"k-nobody", ""},
		{"", ""},
	}
	for _, tt := range tests {
		ex := newExchange()
		ex.Host = newDirectory()
		ex.Request.Header.Set("X-Key", tt.key)
		mustRun(t, instance, PhaseRewrite, ex)

		if ex.Request.Consumer != tt.wantAfter {
			t.Errorf("key %q: Request.Consumer = %q, want %q", tt.key, ex.Request.Consumer, tt.wantAfter)
		}
		if ex.Vars["before"] != "" || ex.Vars["after"] != tt.wantAfter || ex.Vars["keys"] != int64(1) {
			t.Errorf("key %q: vars = %v, want before \"\", after %q and 1 key", tt.key, ex.Vars, tt.wantAfter)
		}
	}
}

func TestConsumerSetRefused(t *testing.T) {
	tests := []struct {
		name    string
		phase   Phase
		host    Host
		wantErr string
	}{
		{"unknown consumer", PhaseAccess, newDirectory(), `the tenant has no consumer "mallory"`},
		{"no directory", PhaseAccess, nil, `the tenant has no consumer "mallory"`},
		{"after the request phases", PhaseHeaderFilter, newDirectory(), "ctx.consumer.set is not allowed in header_filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func " + string(tt.phase) + "(ctx, conf) {\n\tctx.consumer.set(\"mallory\")\n}\n"
			instance := mustBind(t, source, `{}`)
			ex := newExchange()
			if tt.host != nil {
				ex.Host = tt.host
			}

			err := instance.Run(context.Background(), tt.phase, ex)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run() error = %v, want one containing %q", err, tt.wantErr)
			}
			if ex.Request.Consumer != "" {
				t.Errorf("Request.Consumer = %q after a refused set", ex.Request.Consumer)
			}
		})
	}
}
