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
