package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portcullis.dev/portal"
	"portcullis.dev/services/internal/apiclient"
)

const cliToken = "cli-test-operator-token-0123456789"

// startCLIPortal starts a portal on loopback with tenant acme and plugin
// hello published, and points the CLI at it.
func startCLIPortal(t *testing.T) string {
	t.Helper()
	p, err := portal.New(portal.Config{
		DataSource: filepath.Join(t.TempDir(), "portal.db"),
		AdminToken: cliToken,
		Compiler:   func(name, version, source string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})

	base := "http://" + ln.Addr().String()
	client := &apiclient.Client{BaseURL: base, Token: cliToken}
	ctx := context.Background()
	for _, call := range []struct {
		path string
		body any
	}{
		{"/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme"}},
		{"/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": "func access(ctx, conf) {}\n"}},
	} {
		if err := client.Do(ctx, http.MethodPost, call.path, call.body, nil); err != nil {
			t.Fatalf("POST %s: %v", call.path, err)
		}
	}

	t.Setenv("PORTCULLIS_TOKEN", cliToken)
	t.Setenv("PORTCULLIS_PORTAL_URL", base)
	return base
}

const acmeYAML = `tenant: acme
upstreams:
  - name: backend
    targets:
      - url: http://127.0.0.1:9999
        weight: 1
routes:
  - name: api
    paths: [/api]
    upstream: backend
consumers:
  - name: mobile
bindings:
  - plugin: hello
    version: 1.0.0
    route: api
    config: {greeting: hi}
`

func runCLI(t *testing.T, run func(args []string, stdout, stderr *bytes.Buffer) int, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func apply(args []string, stdout, stderr *bytes.Buffer) int  { return runApply(args, stdout, stderr) }
func export(args []string, stdout, stderr *bytes.Buffer) int { return runExport(args, stdout, stderr) }

func TestApplyAndExport(t *testing.T) {
	startCLIPortal(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(file, []byte(acmeYAML), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, apply, "-f", file, "--dry-run")
	if code != 0 || !strings.Contains(out, "create route/api") || !strings.Contains(out, "dry run: 4 steps") {
		t.Fatalf("dry run: exit %d, stdout %q, stderr %q; want 4 planned steps", code, out, errOut)
	}
	code, out, _ = runCLI(t, export, "--tenant", "acme")
	if code != 0 || strings.Contains(out, "api") {
		t.Fatalf("export after a dry run: exit %d, %q; want no route yet", code, out)
	}

	code, out, errOut = runCLI(t, apply, "-f", file)
	if code != 0 || !strings.Contains(out, "applied 4 steps") {
		t.Fatalf("apply: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	exported := filepath.Join(dir, "exported.yaml")
	if code, _, errOut = runCLI(t, export, "--tenant", "acme", "-o", exported); code != 0 {
		t.Fatalf("export: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut = runCLI(t, apply, "-f", exported)
	if code != 0 || !strings.Contains(out, "no changes") {
		t.Errorf("apply of the export: exit %d, stdout %q, stderr %q; want no changes", code, out, errOut)
	}
}

func TestApplyReportsFieldErrors(t *testing.T) {
	startCLIPortal(t)
	file := filepath.Join(t.TempDir(), "bad.yaml")
	bad := strings.Replace(acmeYAML, "paths: [/api]", "paths: [api]", 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runCLI(t, apply, "-f", file)
	if code != 1 || !strings.Contains(errOut, "routes[0].paths") {
		t.Errorf("apply of a bad path: exit %d, stderr %q; want 1 and the field routes[0].paths", code, errOut)
	}
	if count := strings.Count(errOut, "routes[0].paths"); count != 1 {
		t.Errorf("apply of a bad path names the field %d times in %q, want once", count, errOut)
	}

	t.Setenv("PORTCULLIS_TOKEN", "")
	code, _, errOut = runCLI(t, export, "--tenant", "acme")
	if code != 1 || !strings.Contains(errOut, "PORTCULLIS_TOKEN") {
		t.Errorf("export without a token: exit %d, stderr %q", code, errOut)
	}
}

func TestPrintProblemHintsPortalURL(t *testing.T) {
	var out bytes.Buffer
	err := fmt.Errorf("GET /api/v1/tenants/acme/export: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
	printProblem(&out, err, "http://127.0.0.1:9080")
	if want := "is the portal running at http://127.0.0.1:9080? Set --portal or PORTCULLIS_PORTAL_URL"; !strings.Contains(out.String(), want) {
		t.Errorf("output = %q, want it to contain %q", out.String(), want)
	}
}

func TestCountSteps(t *testing.T) {
	for n, want := range map[int]string{0: "0 steps", 1: "1 step", 4: "4 steps"} {
		if got := countSteps(n); got != want {
			t.Errorf("countSteps(%d) = %q, want %q", n, got, want)
		}
	}
}
