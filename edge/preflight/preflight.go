// Package preflight runs a plugin version's own test vectors on the edge
// before a new bundle replaces the one that serves traffic: in the edge
// process for trusted bindings, and in a plugin worker started for the
// check for sandboxed ones. A version or config that fails its vectors never
// replaces a serving runtime: the old runtime keeps serving, and the
// failure is logged, counted and listed. A check that could not run, for
// want of a check worker, fails with ErrNotRun instead and is no failure.
package preflight

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/runtime"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// Timeout bounds one bundle's whole pre-flight. A check in a plugin worker
// may run past it by the pool's call margin, plus its kill margin when the
// worker misses its deadline.
const Timeout = 10 * time.Second

// Sandbox runs test vectors in plugin worker processes. *sandbox.Pool
// implements it.
type Sandbox interface {
	// Verify returns nil when every vector passed or was skipped, and a
	// *pluginpkg.VectorError for the first vector that failed. An error
	// that matches sandbox.ErrCheckUnavailable means the check did not
	// start, for want of a check worker.
	Verify(ctx context.Context, tenant string, v worker.Verify) error
}

// ErrNotRun matches, through errors.Is, the error of a Check that could not
// run a binding's vectors: no check worker came free in time, one did not
// start, or the bundle's Timeout ran out before the binding's check began.
// It does not judge the bundle, so the caller should check it again later
// instead of rejecting it. Check records no failure for it.
var ErrNotRun = errors.New("pre-flight did not run")

// Failure is the last pre-flight failure of one tenant.
type Failure struct {
	Tenant   string    `json:"tenant"`
	Revision int64     `json:"revision"`
	Binding  string    `json:"binding"`
	Plugin   string    `json:"plugin"`
	Version  string    `json:"version"`
	Error    string    `json:"error"`
	Time     time.Time `json:"time"`
}

// Checker runs pre-flights. It remembers every plugin version and config
// that passed, so a binding flipping between two known versions runs its
// vectors only once each. It is safe for concurrent use.
type Checker struct {
	compiler *chain.Compiler
	// sandbox runs the vectors of sandboxed bindings. Nil runs every
	// binding's vectors in the edge process.
	sandbox Sandbox
	logger  *slog.Logger
	failed  prometheus.Counter

	passed sync.Map // check key → struct{}

	mu       sync.Mutex
	failures map[string]Failure
}

// New returns a Checker that compiles with compiler and registers its
// failure counter with registerer.
func New(compiler *chain.Compiler, registerer prometheus.Registerer, logger *slog.Logger) *Checker {
	c := &Checker{
		compiler: compiler,
		logger:   logger,
		failures: make(map[string]Failure),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_edge_preflight_failures_total",
			Help: "Bundles kept out of service because a plugin failed its test vectors.",
		}),
	}
	registerer.MustRegister(c.failed)
	return c
}

// SetSandbox makes the Checker run the vectors of sandboxed bindings (see
// runtime.IsSandboxed) in sandbox, the edge's worker pool. Call it before
// the first Check, because Check reads it without a lock.
func (c *Checker) SetSandbox(sandbox Sandbox) {
	c.sandbox = sandbox
}

// Check runs the test vectors of every enabled binding of b that has not
// passed before with the same source, vectors and config. Vectors marked
// binding_config run with the binding's config; the others with their own.
// Vectors that need Redis are skipped, because pre-flight must not touch
// shared counters. With a sandbox, a sandboxed binding's vectors run in a
// plugin worker, and a worker that dies during them fails the check.
//
// An error that matches ErrNotRun leaves the bundle unjudged. The bindings
// that passed before it are remembered, so the next Check of the bundle
// goes on from the binding that did not run.
func (c *Checker) Check(ctx context.Context, b *bundle.Bundle) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()

	for _, binding := range b.Bindings {
		if !binding.IsEnabled() {
			continue
		}
		code, ok := b.Plugins[bundle.Key(binding.Plugin, binding.Version)]
		if !ok || len(code.TestVectors) == 0 {
			continue
		}

		key := checkKey(code, binding.Config)
		if _, done := c.passed.Load(key); done {
			continue
		}
		if ctx.Err() != nil {
			// Earlier bindings used the whole Timeout, which a long wait
			// for a check worker can do, so this one gets its own later.
			return fmt.Errorf("%w: plugin %q version %q for binding %q: the bundle's pre-flight ended before this check began: %w",
				ErrNotRun, code.Name, code.Version, binding.ID, ctx.Err())
		}
		if err := c.run(ctx, b.Tenant, binding, code); err != nil {
			return c.checkFailed(b, binding.ID, code, err)
		}
		c.passed.Store(key, struct{}{})
	}

	c.clearFailure(b.Tenant)
	return nil
}

// run runs the vectors of one binding where its hooks run.
func (c *Checker) run(ctx context.Context, tenant string, binding config.Binding, code bundle.PluginCode) error {
	bindingConfig := binding.Config
	if bindingConfig == nil {
		bindingConfig = json.RawMessage("{}")
	}
	if c.sandbox != nil && runtime.IsSandboxed(binding, code) {
		return c.runInWorker(ctx, tenant, code, bindingConfig)
	}

	plugin, err := c.compiler.Compile(code)
	if err != nil {
		return err
	}
	vectors, err := pluginpkg.ParseVectors("test_vectors", code.TestVectors)
	if err != nil {
		return err
	}
	results := pluginpkg.Run(ctx, plugin, vectors, pluginpkg.RunOptions{BindingConfig: bindingConfig})
	return pluginpkg.FirstFailure(results)
}

// runInWorker runs the vectors of a sandboxed binding in a plugin
// worker. It first checks the source hash and signature, as the compiler
// does in-process, because the passed cache keys on the declared hash.
func (c *Checker) runInWorker(ctx context.Context, tenant string, code bundle.PluginCode, bindingConfig json.RawMessage) error {
	if sum := bundle.SourceHash(code.Source); sum != code.SHA256 {
		return fmt.Errorf("plugin %q version %q: source hash %q does not match the declared %q", code.Name, code.Version, sum, code.SHA256)
	}
	if err := c.compiler.Verify(code); err != nil {
		return err
	}

	return c.sandbox.Verify(ctx, tenant, worker.Verify{
		Plugin:  code.Name,
		Version: code.Version,
		Source:  code.Source,
		Vectors: code.TestVectors,
		Config:  bindingConfig,
	})
}

// checkKey identifies one plugin version with one binding config.
func checkKey(code bundle.PluginCode, config json.RawMessage) string {
	digest := sha256.New()
	for _, part := range []string{code.Name, code.Version, code.SHA256, string(code.TestVectors), string(config)} {
		digest.Write([]byte(part))
		digest.Write([]byte{0})
	}
	return hex.EncodeToString(digest.Sum(nil))
}

// checkFailed returns the error of a binding whose check failed with err, and
// records the failure unless the check did not start.
func (c *Checker) checkFailed(b *bundle.Bundle, binding string, code bundle.PluginCode, err error) error {
	if errors.Is(err, sandbox.ErrCheckUnavailable) {
		return fmt.Errorf("%w: plugin %q version %q for binding %q: %w", ErrNotRun, code.Name, code.Version, binding, err)
	}

	c.recordFailure(b, binding, code, err)
	return fmt.Errorf("pre-flight of plugin %q version %q for binding %q: %w", code.Name, code.Version, binding, err)
}

func (c *Checker) recordFailure(b *bundle.Bundle, binding string, code bundle.PluginCode, err error) {
	failure := Failure{
		Tenant:   b.Tenant,
		Revision: b.Revision,
		Binding:  binding,
		Plugin:   code.Name,
		Version:  code.Version,
		Error:    pluginpkg.WithoutConfigValues(err),
		Time:     time.Now().UTC(),
	}

	c.mu.Lock()
	c.failures[b.Tenant] = failure
	c.mu.Unlock()

	c.failed.Inc()
	c.logger.Error("pre-flight failed, the previous revision keeps serving",
		"tenant", b.Tenant, "revision", b.Revision, "binding", binding,
		"plugin", code.Name, "version", code.Version, "error", pluginpkg.WithoutConfigValues(err))
}

func (c *Checker) clearFailure(tenant string) {
	c.mu.Lock()
	delete(c.failures, tenant)
	c.mu.Unlock()
}

// Failures returns the last failure of each tenant whose newest bundle has
// not passed, ordered by tenant.
func (c *Checker) Failures() []Failure {
	c.mu.Lock()
	list := make([]Failure, 0, len(c.failures))
	for _, failure := range c.failures {
		list = append(list, failure)
	}
	c.mu.Unlock()

	slices.SortFunc(list, func(a, b Failure) int { return strings.Compare(a.Tenant, b.Tenant) })
	return list
}

// Handler serves Failures as a JSON array.
func (c *Checker) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(c.Failures())
	})
}
