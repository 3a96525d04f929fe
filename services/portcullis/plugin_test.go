package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePackage writes a small plugin package with the given tests.json.
func writePackage(t *testing.T, tests string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"manifest.yaml": "name: deny\nversion: 1.0.0\nphases: [access]\ndescription: denies /admin\n",
		"plugin.risor":  "func access(ctx, conf) {\n  if ctx.req.path == \"/admin\" {\n    ctx.exit(403, \"no\")\n  }\n}\n",
		"README.md":     "# deny\n",
		"tests.json":    tests,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	return dir
}

func TestPluginTestCommand(t *testing.T) {
	tests := []struct {
		name     string
		vectors  string
		wantCode int
		wantOut  []string
	}{
		{
			name:     "all vectors pass",
			vectors:  `[{"name":"admin denied","request":{"path":"/admin"},"expect":{"status":403}},{"name":"root passes","request":{"path":"/"},"expect":{"status":200}}]`,
			wantCode: 0,
			wantOut:  []string{"PASS  admin denied", "PASS  root passes", "2 passed, 0 failed"},
		},
		{
			name:     "failing vector exits 1",
			vectors:  `[{"name":"admin allowed","request":{"path":"/admin"},"expect":{"status":200}},{"name":"root passes","request":{"path":"/"},"expect":{"status":200}}]`,
			wantCode: 1,
			wantOut:  []string{"FAIL  admin allowed: status = 403, want 200", "1 passed, 1 failed"},
		},
		{
			name:     "binding vector skipped",
			vectors:  `[{"name":"any binding","binding_config":true,"request":{"path":"/"},"expect":{"status":200}}]`,
			wantCode: 0,
			wantOut:  []string{"SKIP  any binding", "0 passed, 0 failed, 1 skipped"},
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runPlugin([]string{"test", writePackage(t, test.vectors)}, &stdout, &stderr)
			if code != test.wantCode {
				t.Errorf("exit code = %d, want %d; stderr %s", code, test.wantCode, stderr.String())
			}
			for _, want := range test.wantOut {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

func TestPluginTestInvalidPackage(t *testing.T) {
	dir := writePackage(t, `[{"name":"x","expect":{"status":99}}]`)
	var stdout, stderr bytes.Buffer
	if code := runPlugin([]string{"test", dir}, &stdout, &stderr); code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if want := "tests.json:1: [0].expect.status: status 99 is out of range"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
	}
}

func TestPluginTestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runPlugin([]string{"run"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
}
