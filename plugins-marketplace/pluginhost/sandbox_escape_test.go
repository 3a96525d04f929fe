package pluginhost

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runEscape compiles a hook whose body is body and runs it. It returns the
// error of whichever step stopped it, or nil when the hook ran to its end.
func runEscape(body string) error {
	source := "func access(ctx, conf) {\n  " + body + "\n  ctx.req.set_header(\"X-Reached-End\", \"yes\")\n}"
	plugin, err := Compile("escape", "1.0.0", source)
	if err != nil {
		return err
	}
	instance, err := plugin.Bind(nil)
	if err != nil {
		return err
	}

	ex := newExchange()
	if err := instance.Run(context.Background(), PhaseAccess, ex); err != nil {
		return err
	}
	if ex.Request.Header.Get("X-Reached-End") != "yes" {
		return errors.New("hook stopped early without an error")
	}
	return nil
}

// TestSandboxEscapeRoutes tries each way out of the sandbox. Every attempt
// must fail, in Compile or in Run, before it has any effect, and the checks
// after it look for the effect.
func TestSandboxEscapeRoutes(t *testing.T) {
	dir := t.TempDir()
	written := filepath.Join(dir, "written")
	touched := filepath.Join(dir, "touched")
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret"), 0o600); err != nil {
		t.Fatalf("write secret file: %v", err)
	}
	t.Setenv("PORTCULLIS_SANDBOX_PROBE", "before")

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer listener.Close()
	var accepted atomic.Int64
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = conn.Close()
		}
	}()
	address := listener.Addr().String()

	tests := []struct {
		route    string
		attempts []string
	}{
		{"read a file", []string{
			`open("` + secretFile + `")`,
			`os.read_file("` + secretFile + `")`,
			`cat("` + secretFile + `")`,
		}},
		{"write a file", []string{
			`os.write_file("` + written + `", "x")`,
			`os.create("` + written + `")`,
		}},
		{"run a command", []string{
			`exec.command("touch", "` + touched + `").run()`,
			`exec("touch", ["` + touched + `"])`,
		}},
		{"read the environment", []string{
			`os.getenv("PORTCULLIS_SANDBOX_PROBE")`,
			`os.environ()`,
		}},
		{"set the environment", []string{
			`os.setenv("PORTCULLIS_SANDBOX_PROBE", "after")`,
		}},
		{"exit the process", []string{
			`os.exit(3)`,
			`exit(3)`,
		}},
		{"open a connection", []string{
			`net.dial("tcp", "` + address + `")`,
			`http.get("http://` + address + `/")`,
			`fetch("http://` + address + `/")`,
		}},
		{"look up DNS", []string{
			`net.lookup_host("localhost")`,
			`dns.lookup("localhost")`,
		}},
		{"import a module", []string{
			`import os`,
			`from os import getenv`,
			`import "os"`,
		}},
		{"sleep", []string{
			`time.sleep(2)`,
			`sleep(2)`,
		}},
		{"spawn a goroutine", []string{
			`go func() {}()`,
			`spawn(func() {})`,
			`len.spawn([1])`,
			`func f() {}
  f.spawn()`,
		}},
		{"print to stdout", []string{
			`print("leak")`,
			`printf("leak")`,
			`fmt.println("leak")`,
		}},
		{"reach a module through __module__", []string{
			`getattr(len, "__module__").getenv("HOME")`,
			`getattr(crypto.sha256, "__module__").getenv("HOME")`,
			`getattr(ctx.req.header, "__module__").getenv("HOME")`,
			`getattr(json, "__module__").getenv("HOME")`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			for _, attempt := range tt.attempts {
				start := time.Now()
				err := runEscape(attempt)
				if err == nil {
					t.Errorf("%s: hook ran to its end, want it rejected", attempt)
				}
				if elapsed := time.Since(start); elapsed > time.Second {
					t.Errorf("%s: took %s, want it rejected before any wait", attempt, elapsed)
				}
			}
		})
	}

	for _, path := range []string{written, touched} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("file %s exists or failed to stat (%v), want it never created", filepath.Base(path), err)
		}
	}
	if got := os.Getenv("PORTCULLIS_SANDBOX_PROBE"); got != "before" {
		t.Errorf("PORTCULLIS_SANDBOX_PROBE = %q, want it unchanged", got)
	}
	time.Sleep(20 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("listener accepted %d connections, want 0", n)
	}
}

// TestSandboxEscapeErrors checks the reason each route fails, so a change
// that closes a route by accident (a typo that fails) is not mistaken for
// the sandbox at work.
func TestSandboxEscapeErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"os module", `os.getenv("HOME")`, "undefined variable"},
		{"exec module", `exec.command("id")`, "undefined variable"},
		{"net module", `net.dial("tcp", "127.0.0.1:1")`, "undefined variable"},
		{"print", `print("x")`, "undefined variable"},
		{"sleep on time", `time.sleep(1)`, `attribute "sleep" not found`},
		{"import", `import os`, "an import is not allowed"},
		{"go statement", `go func() {}()`, "a go statement is not allowed"},
		{"module attribute", `getattr(len, "__module__").getenv("HOME")`, `no attribute "__module__"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runEscape(tt.body)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
