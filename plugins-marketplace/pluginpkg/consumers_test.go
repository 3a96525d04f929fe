package pluginpkg

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestVectorConsumerIssues(t *testing.T) {
	tests := []struct {
		name      string
		consumers string
		wantField string
	}{
		{"missing name", `[{"keys": ["k-0123456789"]}]`, "[0].consumers[0].name"},
		{"name twice", `[{"name": "alice"}, {"name": "alice"}]`, "[0].consumers[1].name"},
		{"empty key", `[{"name": "alice", "keys": [""]}]`, "[0].consumers[0].keys[0]"},
		{"key of two consumers", `[{"name": "alice", "keys": ["k-0123456789"]}, {"name": "bob", "keys": ["k-0123456789"]}]`, "[0].consumers[1].keys[0]"},
		{"too many consumers", "[" + strings.Repeat(`{"name": "c"},`, MaxVectorConsumers) + `{"name": "c"}]`, "[0].consumers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := `[{"name": "v", "consumers": ` + tt.consumers + `, "expect": {}}]`
			_, err := ParseVectors("tests.json", []byte(data))
			var invalid *ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("ParseVectors() error = %v, want a ValidationError", err)
			}
			var fields []string
			for _, issue := range invalid.Issues {
				fields = append(fields, issue.Field)
			}
			if !strings.Contains(strings.Join(fields, " "), tt.wantField) {
				t.Errorf("issue fields = %q, want %q", fields, tt.wantField)
			}
		})
	}
}

// identifySource identifies the consumer whose key is in X-Key, or the
// one that X-Who names.
const identifySource = `func rewrite(ctx, conf) {
  found := ctx.consumer.by_key(ctx.req.header("X-Key"))
  if found != nil {
    ctx.consumer.set(found)
  } else if ctx.req.header("X-Who") != "" {
    ctx.consumer.set(ctx.req.header("X-Who"))
  }
  ctx.req.set_header("X-Jwt-Keys", string(len(ctx.consumer.keys(ctx.consumer.name()))))
}
`

func TestVectorConsumerDirectory(t *testing.T) {
	vectors := `[
  {"name": "key names alice", "consumers": [{"name": "alice", "keys": ["k-alice-0123"]}],
   "request": {"headers": {"X-Key": "k-alice-0123"}}, "expect": {"consumer": "alice"}},
  {"name": "jwt keys of carol", "consumers": [{"name": "carol", "jwt_keys": [{"algorithm": "EdDSA", "public_key": "pem"}]}],
   "request": {"headers": {"X-Who": "carol"}}, "expect": {"consumer": "carol", "upstream": {"headers": {"equal": {"X-Jwt-Keys": "1"}}}}},
  {"name": "no directory", "request": {"headers": {"X-Key": "k-alice-0123"}}, "expect": {"consumer": ""}},
  {"name": "unknown consumer raises", "consumers": [{"name": "alice"}],
   "request": {"headers": {"X-Who": "mallory"}}, "expect": {"status": 500, "error": "no consumer \"mallory\""}}
]`
	if err := TestSource(context.Background(), "identify", "1.0.0", identifySource, []byte(vectors), RunOptions{}); err != nil {
		t.Fatalf("TestSource() error = %v", err)
	}

	wrong := strings.Replace(vectors, `"expect": {"consumer": "alice"}`, `"expect": {"consumer": "bob"}`, 1)
	err := TestSource(context.Background(), "identify", "1.0.0", identifySource, []byte(wrong), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), `consumer = "alice", want "bob"`) {
		t.Errorf("TestSource() with a wrong consumer error = %v, want the consumer difference", err)
	}
}
