package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestEdgeStartFailsWithoutTrust starts edges that cannot verify plugin
// code: one whose token the portal rejects, and one whose portal is down at
// its first start, with no cached plugin key. Each must exit with an error
// that names the fix instead of serving.
func TestEdgeStartFailsWithoutTrust(t *testing.T) {
	p := startPortal(t)
	tests := []struct {
		name      string
		portalURL string
		want      string
	}{
		{name: "rejected token", portalURL: p.url(), want: "rejected the edge token: set --edge-token (env PORTCULLIS_EDGE_TOKEN)"},
		{name: "portal down, no cached key", portalURL: "http://" + freeAddr(t), want: "no plugin public key"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve", "--role", "edge", "--portal-url", test.portalURL,
				"--node-id", "untrusted", "--region", "test", "--data-dir", t.TempDir(),
				"--http-addr", freeAddr(t), "--https-addr", "", "--admin-addr", freeAddr(t))
			cmd.Env = append(os.Environ(), "PORTCULLIS_EDGE_TOKEN=pce_not_a_token")
			output, err := cmd.CombinedOutput()

			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || ctx.Err() != nil {
				t.Fatalf("edge run: %v, want an exit with an error before the deadline; output:\n%s", err, output)
			}
			if !strings.Contains(string(output), test.want) {
				t.Errorf("output lacks %q:\n%s", test.want, output)
			}
		})
	}
}
