package runtime

import (
	"testing"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func TestIsSandboxedFollowsTierThenReview(t *testing.T) {
	tests := []struct {
		name     string
		tier     string
		reviewed bool
		want     bool
	}{
		{"unreviewed default", "", false, true},
		{"reviewed default", "", true, false},
		{"forced sandboxed", config.TierSandboxed, true, true},
		{"forced trusted", config.TierTrusted, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := isSandboxed(config.Binding{Tier: tt.tier}, bundle.PluginCode{Reviewed: tt.reviewed})
			if got != tt.want {
				t.Errorf("isSandboxed(tier %q, reviewed %v) = %v, want %v", tt.tier, tt.reviewed, got, tt.want)
			}
		})
	}
}

func TestWithoutSandboxedKeepsTrustedBindings(t *testing.T) {
	b := &bundle.Bundle{
		Tenant: "acme",
		Bindings: []config.Binding{
			{ID: "reviewed", Plugin: "a", Version: "1.0.0"},
			{ID: "unreviewed", Plugin: "b", Version: "1.0.0"},
			{ID: "forced", Plugin: "b", Version: "1.0.0", Tier: config.TierTrusted},
		},
		Plugins: map[string]bundle.PluginCode{
			bundle.Key("a", "1.0.0"): {Name: "a", Version: "1.0.0", Reviewed: true},
			bundle.Key("b", "1.0.0"): {Name: "b", Version: "1.0.0"},
		},
	}

	got := WithoutSandboxed(b)
	if len(got.Bindings) != 2 || got.Bindings[0].ID != "reviewed" || got.Bindings[1].ID != "forced" {
		t.Errorf("bindings = %+v, want reviewed and forced", got.Bindings)
	}
	if len(b.Bindings) != 3 {
		t.Errorf("the input bundle lost bindings: %+v", b.Bindings)
	}
}
