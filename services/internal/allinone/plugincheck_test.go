package allinone

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portcullis.dev/edge/sandbox"
	"portcullis.dev/portal"
	"portcullis.dev/services/internal/apiclient"
)

// overflowSource overflows the Go stack, which ends the process that runs
// it, when a request carries X-Crash: comparing two lists that contain
// themselves recurses without end.
const overflowSource = `func access(ctx, conf) {
    if ctx.req.header("X-Crash") != "" {
        a := [1]
        a.append(a)
        b := [1]
        b.append(b)
        same := a == b
    }
}
`

// startWorkerHarness starts an all-in-one server that runs plugin workers,
// with this test binary as the worker.
func startWorkerHarness(t *testing.T) *harness {
	t.Helper()
	executable, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t.TempDir())
	cfg.Sandbox = sandbox.Config{Command: []string{executable, "worker"}, MaxWorkers: 2}
	return startHarnessWith(t, cfg)
}

// TestPortalChecksSurviveFatalScripts publishes versions whose test
// vectors end the process that runs them, and one whose top-level code
// would, which the top-level rule rejects before it runs. The portal must
// reject each with the cause and keep serving.
func TestPortalChecksSurviveFatalScripts(t *testing.T) {
	h := startWorkerHarness(t)
	crashVector := `[{"name":"crash","request":{"path":"/","headers":{"X-Crash":"1"}},"expect":{"status":200}}]`
	tests := []struct {
		name       string
		source     string
		vectors    string
		wantStatus int
		wantDetail string
	}{
		{"vector overflows the stack", overflowSource, crashVector, http.StatusUnprocessableEntity, "a test vector ended the plugin worker that ran it: exit status 2: fatal error:"},
		{"top-level code that would overflow the stack never runs", "a := [1]\na.append(a)\nb := [1]\nb.append(b)\nsame := a == b\n" + overflowSource, "[]", http.StatusUnprocessableEntity, `assigning a list to "a" is not allowed at top level`},
		{"source does not compile", "func access(ctx, conf) {\n  x := \n}\n", "[]", http.StatusUnprocessableEntity, "line 2"},
		{"binding_config vector is skipped at publish", overflowSource, `[{"name":"with the binding","binding_config":true,"request":{"path":"/","headers":{"X-Crash":"1"}},"expect":{"status":200}}]`, 0, ""},
	}
	for i, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			body := map[string]any{
				"name": "fatal-check", "version": "1.0." + string(rune('0'+i)), "source": test.source,
				"test_vectors": json.RawMessage(test.vectors),
			}
			err := h.api.Do(context.Background(), http.MethodPost, "/api/v1/plugins", body, nil)
			if got := apiclient.StatusOf(err); got != test.wantStatus {
				t.Fatalf("status = %d (error %v), want %d", got, err, test.wantStatus)
			}
			if test.wantDetail != "" && !strings.Contains(err.Error(), test.wantDetail) {
				t.Errorf("error = %q, want it to contain %q", err.Error(), test.wantDetail)
			}
			if err != nil && strings.Contains(err.Error(), "goroutine") {
				t.Errorf("error = %q, want the worker's cause without its stack dump", err.Error())
			}
			h.mustAPI(http.MethodGet, "/api/v1/plugins", nil, nil)
		})
	}
}

// TestTryRouteSurvivesFatalScript tries a route whose plugin ends the
// process that runs it for one request. The try fails with the worker's
// failure, and the next try of the route works.
func TestTryRouteSurvivesFatalScript(t *testing.T) {
	h := startWorkerHarness(t)
	h.mustAPI(http.MethodPost, "/api/v1/plugins", map[string]any{"name": "crash-on-header", "version": "1.0.0", "source": overflowSource}, nil)
	h.addTenant("acme", upstream(t, "acme"), "/")
	h.bind("acme", "crash-on-header", "1.0.0", map[string]any{})
	try := "/api/v1/tenants/acme/routes/main/try"

	err := h.api.Do(context.Background(), http.MethodPost, try, map[string]any{"path": "/", "headers": map[string]string{"X-Crash": "1"}}, nil)
	if got := apiclient.StatusOf(err); got != http.StatusUnprocessableEntity {
		t.Fatalf("try with X-Crash: status = %d (error %v), want 422", got, err)
	}
	if !strings.Contains(err.Error(), "a hook ended the plugin worker that ran the chain: exit status 2: fatal error:") {
		t.Errorf("try with X-Crash: error = %q, want the worker's exit and crash line", err.Error())
	}
	if strings.Contains(err.Error(), "goroutine") {
		t.Errorf("try with X-Crash: error = %q, want it without the worker's stack dump", err.Error())
	}

	var trace struct {
		Upstream *struct {
			Path string `json:"path"`
		} `json:"upstream"`
	}
	h.mustAPI(http.MethodPost, try, map[string]any{"path": "/next"}, &trace)
	if trace.Upstream == nil || trace.Upstream.Path != "/next" {
		t.Errorf("try without X-Crash: upstream = %+v, want the request for /next", trace.Upstream)
	}
}

// loopVectors run a hook that loops until its deadline, 100 times, so the
// check that runs them holds the portal's check worker until its context
// ends.
const loopVectors = `[{"name": "loops", "repeat": 100, "request": {"path": "/"}, "expect": {"status": 200}}]`

const loopSource = `func access(ctx, conf) {
	n := 0
	for { n++ }
}
`

// newTestChecks returns the portal's checks with this test binary as the
// worker.
func newTestChecks(t *testing.T) *pluginChecks {
	t.Helper()
	executable, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	checks, err := newPluginChecks(sandbox.Config{Command: []string{executable, "worker"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(checks.close)
	return checks
}

// TestPortalCheckBusyIsUnavailable runs a publish check while another
// check holds the portal's check worker with slow vectors. The waiting
// check did not run, so its error is a *portal.UnavailableError and no
// complaint about its source or vectors.
func TestPortalCheckBusyIsUnavailable(t *testing.T) {
	checks := newTestChecks(t)
	slowCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	slowDone := make(chan error, 1)
	go func() {
		slowDone <- checks.test(slowCtx, "loop", "1.0.0", loopSource, json.RawMessage(loopVectors))
	}()

	// A quick check that takes the worker before the slow one passes, so
	// the quick one runs again until it finds the worker busy.
	var err error
	var unavailable *portal.UnavailableError
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		ctx, cancelWaiting := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err = checks.test(ctx, "quick", "1.0.0", "func access(ctx, conf) {}\n", json.RawMessage(loopVectors))
		cancelWaiting()
		if err != nil {
			break
		}
	}
	if !errors.As(err, &unavailable) {
		t.Fatalf("check while the worker is busy = %v, want a *portal.UnavailableError", err)
	}
	if unavailable.RetryAfter != checkRetryAfter {
		t.Errorf("RetryAfter = %v, want %v", unavailable.RetryAfter, checkRetryAfter)
	}
	if slowErr := <-slowDone; errors.As(slowErr, &unavailable) {
		t.Errorf("slow check = %v, want a judged failure, not an *portal.UnavailableError", slowErr)
	}
}

// TestPublishWithoutWorkerIs503 publishes a version while no plugin worker
// can start. The check did not run, so the portal responds with 503 and a
// Retry-After and blames neither the source nor the vectors.
func TestPublishWithoutWorkerIs503(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Sandbox = sandbox.Config{Command: []string{filepath.Join(t.TempDir(), "no-such-worker")}, MaxWorkers: 1}
	h := startHarnessWith(t, cfg)

	body := strings.NewReader(`{"name": "quick", "version": "1.0.0", "source": "func access(ctx, conf) {}\n"}`)
	req, err := http.NewRequest(http.MethodPost, h.server.PortalURL()+"/api/v1/plugins", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(resp.Body)

	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d (%s), want 503", resp.StatusCode, detail)
	}
	if got, want := resp.Header.Get("Retry-After"), strconv.Itoa(int(checkRetryAfter.Seconds())); got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	if strings.Contains(string(detail), "compile check failed") || strings.Contains(string(detail), `"field":"source"`) {
		t.Errorf("body = %s, want no blame on the plugin's source", detail)
	}
}

func TestCheckLabelNamesNamespace(t *testing.T) {
	for plugin, want := range map[string]string{
		"acme/auth":    "(portal) acme",
		"acme/limiter": "(portal) acme",
		"beta/auth":    "(portal) beta",
		"key-auth":     "(portal) portcullis",
	} {
		if got := checkLabelFor(plugin); got != want {
			t.Errorf("checkLabelFor(%q) = %q, want %q", plugin, got, want)
		}
	}
}
