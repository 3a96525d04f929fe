package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// fakeSandbox returns the next error of results from each Verify, and nil
// once they run out. It records the plugin of each Verify.
type fakeSandbox struct {
	mu       sync.Mutex
	results  []error
	verified []string
}

func (f *fakeSandbox) Verify(ctx context.Context, tenant string, v worker.Verify) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.verified = append(f.verified, v.Plugin)
	if len(f.results) == 0 {
		return nil
	}
	err := f.results[0]
	f.results = f.results[1:]
	return err
}

func (f *fakeSandbox) plugins() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.verified...)
}

// busyError is the error of a check that found no free check worker.
var busyError = fmt.Errorf("check plugin in a plugin worker: no check worker came free: %w", sandbox.ErrCheckUnavailable)

const passSource = `func access(ctx, conf) {}
`

const passVectors = `[{"name": "lets requests through", "request": {"path": "/"}, "expect": {"status": 200}}]`

// sandboxedBundle returns tenant acme at revision 2 with one sandboxed
// binding with vectors for each plugin name.
func sandboxedBundle(names ...string) *bundle.Bundle {
	b := &bundle.Bundle{Tenant: "acme", Revision: 2, Plugins: map[string]bundle.PluginCode{}}
	for _, name := range names {
		code := bundle.PluginCode{Name: name, Version: "1.0.0", Source: passSource, SHA256: bundle.SourceHash(passSource), TestVectors: json.RawMessage(passVectors)}
		b.Plugins[bundle.Key(name, "1.0.0")] = code
		b.Bindings = append(b.Bindings, config.Binding{ID: "b-" + name, Plugin: name, Version: "1.0.0", Tier: config.TierSandboxed})
	}
	return b
}

func newChecker(t *testing.T, box Sandbox) *Checker {
	t.Helper()
	checker := New(chain.NewCompiler(0), prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	checker.SetSandbox(box)
	return checker
}

func TestCheckUnavailableIsNotFailure(t *testing.T) {
	box := &fakeSandbox{results: []error{busyError}}
	checker := newChecker(t, box)
	b := sandboxedBundle("first")

	err := checker.Check(context.Background(), b)
	if !errors.Is(err, ErrNotRun) {
		t.Fatalf("Check with a busy check worker = %v, want it to match ErrNotRun", err)
	}
	if !errors.Is(err, sandbox.ErrCheckUnavailable) {
		t.Errorf("Check error = %v, want it to keep the sandbox's cause", err)
	}
	if !strings.Contains(err.Error(), `binding "b-first"`) {
		t.Errorf("Check error = %v, want it to name the binding", err)
	}
	if failures := checker.Failures(); len(failures) != 0 {
		t.Errorf("failures after a check that did not run = %+v, want none", failures)
	}
	if got := testutil.ToFloat64(checker.failed); got != 0 {
		t.Errorf("failure counter = %v, want 0", got)
	}

	if err := checker.Check(context.Background(), b); err != nil {
		t.Errorf("Check once the check worker is free: %v, want nil", err)
	}
}

func TestCheckVectorFailureStillRecorded(t *testing.T) {
	vectorErr := &pluginpkg.VectorError{Vector: "lets requests through"}
	checker := newChecker(t, &fakeSandbox{results: []error{vectorErr}})

	err := checker.Check(context.Background(), sandboxedBundle("first"))
	if err == nil || errors.Is(err, ErrNotRun) {
		t.Fatalf("Check with a failing vector = %v, want a failure that is not ErrNotRun", err)
	}
	if failures := checker.Failures(); len(failures) != 1 || failures[0].Revision != 2 {
		t.Errorf("failures = %+v, want one of revision 2", failures)
	}
	if got := testutil.ToFloat64(checker.failed); got != 1 {
		t.Errorf("failure counter = %v, want 1", got)
	}
}

// TestCheckResumesAfterNotRun checks that the bindings that passed before
// a check that did not run are not checked again.
func TestCheckResumesAfterNotRun(t *testing.T) {
	box := &fakeSandbox{results: []error{nil, busyError}}
	checker := newChecker(t, box)
	b := sandboxedBundle("first", "second")

	if err := checker.Check(context.Background(), b); !errors.Is(err, ErrNotRun) {
		t.Fatalf("Check = %v, want ErrNotRun for the second binding", err)
	}
	if err := checker.Check(context.Background(), b); err != nil {
		t.Fatalf("second Check = %v, want nil", err)
	}

	want := []string{"first", "second", "second"}
	if got := box.plugins(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("verified plugins = %v, want %v", got, want)
	}
}

func TestCheckBudgetSpentIsNotRun(t *testing.T) {
	checker := newChecker(t, &fakeSandbox{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := checker.Check(ctx, sandboxedBundle("first"))
	if !errors.Is(err, ErrNotRun) {
		t.Errorf("Check after the bundle's time ran out = %v, want it to match ErrNotRun", err)
	}
	if failures := checker.Failures(); len(failures) != 0 {
		t.Errorf("failures = %+v, want none", failures)
	}
}
