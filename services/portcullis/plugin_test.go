package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
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

// TestPluginTestChecksSchemas checks that plugin test rejects what the
// portal rejects: a config schema that publishing refuses, and a vector
// config that does not match the schema.
func TestPluginTestChecksSchemas(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		vectors  string
		want     string
	}{
		{
			name:     "array schema",
			manifest: "name: deny\nversion: 1.0.0\nphases: [access]\nconfig_schema: {type: array}\n",
			vectors:  `[]`,
			want:     "manifest.yaml: config_schema.type",
		},
		{
			name:     "misspelled type",
			manifest: "name: deny\nversion: 1.0.0\nphases: [access]\nconfig_schema: {type: object, properties: {mode: {type: strng}}}\n",
			vectors:  `[]`,
			want:     "manifest.yaml: config_schema",
		},
		{
			name:     "vector config against the schema",
			manifest: "name: deny\nversion: 1.0.0\nphases: [access]\nconfig_schema: {type: object, properties: {mode: {type: string}}}\n",
			vectors:  `[{"name":"numeric mode","config":{"mode":3},"expect":{"status":200}}]`,
			want:     `tests.json: vector "numeric mode": the config does not match config_schema`,
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			dir := writePackage(t, test.vectors)
			if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte(test.manifest), 0o644); err != nil {
				t.Fatal(err)
			}

			var stdout, stderr bytes.Buffer
			if code := runPlugin([]string{"test", dir}, &stdout, &stderr); code != 1 {
				t.Errorf("exit code = %d, want 1; stdout %s", code, stdout.String())
			}
			if !strings.Contains(stderr.String(), test.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), test.want)
			}
		})
	}
}

func TestPluginTestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runPlugin([]string{"run"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
}

// selfListSource compares a list that contains itself on /loop, which
// recurses in Go until the stack overflows. A script function that calls
// itself without end is no such test: Risor 1.8.1 fails its hook once the
// VM's 1024 call frames are used up.
const selfListSource = `func access(ctx, conf) {
  if ctx.req.path == "/loop" {
    x := [1]
    x.append(x)
    y := x == x
  }
}
`

func TestPluginTestStackOverflow(t *testing.T) {
	dir := writePackage(t, `[{"name":"root passes","request":{"path":"/"},"expect":{"status":200}},{"name":"self list","request":{"path":"/loop"},"expect":{"status":200}}]`)
	if err := os.WriteFile(filepath.Join(dir, "plugin.risor"), []byte(selfListSource), 0o644); err != nil {
		t.Fatalf("write plugin.risor: %v", err)
	}

	var stdout, stderr bytes.Buffer
	code := runPlugin([]string{"test", dir}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(stdout.String(), "PASS  root passes") {
		t.Errorf("output lacks the line of the vector before the crash:\n%s", stdout.String())
	}

	message := strings.TrimSpace(stderr.String())
	if lines := strings.Count(message, "\n") + 1; lines != 1 {
		t.Errorf("stderr has %d lines, want 1:\n%s", lines, message)
	}
	if want := "exit status 2: fatal error: stack overflow"; !strings.Contains(message, want) {
		t.Errorf("stderr = %q, want it to contain %q", message, want)
	}
	if output := stdout.String() + stderr.String(); strings.Contains(output, "goroutine ") {
		t.Errorf("output contains a Go trace:\n%s", output)
	}
}

func TestStderrCaptureSummary(t *testing.T) {
	tests := []struct {
		name   string
		stderr string
		want   string
	}{
		{
			name:   "fatal error",
			stderr: "runtime: goroutine stack exceeds 67108864-byte limit\nfatal error: stack overflow\n\ngoroutine 1 [running]:\n",
			want:   "exit status 2: fatal error: stack overflow",
		},
		{
			name:   "panic",
			stderr: "panic: boom\n\ngoroutine 1 [running]:\n",
			want:   "exit status 2: panic: boom",
		},
		{
			name:   "no crash report",
			stderr: "invalid plugin package\n",
			want:   "exit status 2",
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			capture := &stderrCapture{}
			_, _ = capture.Write([]byte(test.stderr))
			summary := capture.summary(exitedWith(t, 2))
			if summary != test.want {
				t.Errorf("summary = %q, want %q", summary, test.want)
			}
		})
	}
}

func TestStderrCaptureLimit(t *testing.T) {
	capture := &stderrCapture{}
	_, _ = capture.Write(bytes.Repeat([]byte("x"), maxChildStderr+10))

	var out bytes.Buffer
	capture.copyTo(&out)
	if !strings.HasSuffix(out.String(), "... 10 more bytes of output left out\n") {
		t.Errorf("output ends with %q, want the count of the 10 bytes left out", out.String()[max(out.Len()-60, 0):])
	}
}

// exitedWith returns the state of a process that exited with code.
func exitedWith(t *testing.T, code int) *os.ProcessState {
	t.Helper()
	cmd := exec.Command("sh", "-c", fmt.Sprintf("exit %d", code))
	var exitErr *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &exitErr) {
		t.Fatalf("run sh: %v, want exit status %d", err, code)
	}
	return cmd.ProcessState
}
