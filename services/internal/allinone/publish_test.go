package allinone

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/services/internal/apiclient"
	"portcullis.dev/services/internal/datadir"
)

const vectorPluginSource = `func access(ctx, conf) {
    if ctx.req.header("X-Token") == "" {
        ctx.exit(401, "no token")
    }
}
`

func TestPublishRunsTestVectors(t *testing.T) {
	h := startHarness(t)
	tests := []struct {
		name       string
		version    string
		vectors    string
		wantStatus int
		wantDetail string
	}{
		{"passing vectors publish", "1.0.0", `[{"name":"no token","request":{"path":"/"},"expect":{"status":401,"body":"no token"}}]`, 0, ""},
		{"failing vector rejects", "1.0.1", `[{"name":"token passes","request":{"path":"/"},"expect":{"status":200}}]`, http.StatusUnprocessableEntity, `test vector "token passes" failed: status = 401, want 200`},
		{"invalid vectors reject", "1.0.2", `[{"request":{"path":"/"}}]`, http.StatusUnprocessableEntity, "name is missing"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			body := map[string]any{
				"name": "vector-check", "version": test.version, "source": vectorPluginSource,
				"readme": "# vector-check\n", "test_vectors": json.RawMessage(test.vectors),
			}
			err := h.api.Do(context.Background(), http.MethodPost, "/api/v1/plugins", body, nil)
			if got := apiclient.StatusOf(err); got != test.wantStatus {
				t.Fatalf("status = %d (error %v), want %d", got, err, test.wantStatus)
			}
			if test.wantDetail != "" && !strings.Contains(err.Error(), test.wantDetail) {
				t.Errorf("error = %q, want it to contain %q", err.Error(), test.wantDetail)
			}
		})
	}

	var version struct {
		Readme      string          `json:"readme"`
		TestVectors json.RawMessage `json:"test_vectors"`
	}
	h.mustAPI(http.MethodGet, "/api/v1/plugins/vector-check/versions/1.0.0", nil, &version)
	if version.Readme != "# vector-check\n" {
		t.Errorf("readme = %q, want the published README", version.Readme)
	}
	if !strings.Contains(string(version.TestVectors), `"no token"`) {
		t.Errorf("test_vectors = %s, want the published vectors", version.TestVectors)
	}
}

func TestDemoPublishesCatalog(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Demo = true
	h := startHarnessWith(t, cfg)

	published := h.publishedVersions()
	for _, name := range []string{"hello", "key-auth", "jwt-auth", "limit-count", "proxy-rewrite", "response-rewrite", "cors"} {
		if published[name] == "" {
			t.Errorf("plugin %q is not published after --demo, want it published", name)
		}
	}
	checkCatalogSigned(t, h, cfg.DataDir, "key-auth", published["key-auth"])
}

// checkCatalogSigned checks that a demo plugin version carries a signature
// that the public key in the data folder verifies.
func checkCatalogSigned(t *testing.T, h *harness, dataDir, name, version string) {
	t.Helper()

	var got struct {
		SHA256    string `json:"sha256"`
		Signature string `json:"signature"`
	}
	h.mustAPI(http.MethodGet, "/api/v1/plugins/"+name+"/versions/"+version, nil, &got)
	stored, err := os.ReadFile(filepath.Join(dataDir, datadir.PluginPublicKeyFile))
	if err != nil {
		t.Fatalf("read public key: %v", err)
	}
	public, err := signing.ParsePublicKey(string(stored))
	if err != nil {
		t.Fatalf("parse public key: %v", err)
	}
	if err := signing.Verify(public, name, version, got.SHA256, got.Signature); err != nil {
		t.Errorf("demo plugin %s@%s: %v", name, version, err)
	}
}
