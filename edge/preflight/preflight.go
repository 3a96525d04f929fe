// Package preflight runs a plugin version's own test vectors on the edge
// before a new bundle replaces the one that serves traffic. A version or
// config that fails its vectors never replaces a serving runtime: the old
// runtime keeps serving, and the failure is logged, counted and listed.
package preflight

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/tenants/bundle"
)

// Timeout bounds one bundle's whole pre-flight.
const Timeout = 10 * time.Second

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
	logger   *slog.Logger
	failed   prometheus.Counter

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

// Check runs the test vectors of every enabled binding of b that has not
// passed before with the same source, vectors and config. Vectors marked
// binding_config run with the binding's config; the others with their own.
// Vectors that need Redis are skipped, because pre-flight must not touch
// shared counters.
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
		if err := c.run(ctx, code, binding.Config); err != nil {
			c.recordFailure(b, binding.ID, code, err)
			return fmt.Errorf("pre-flight of plugin %q version %q for binding %q: %w", code.Name, code.Version, binding.ID, err)
		}
		c.passed.Store(key, struct{}{})
	}

	c.clearFailure(b.Tenant)
	return nil
}

func (c *Checker) run(ctx context.Context, code bundle.PluginCode, config json.RawMessage) error {
	plugin, err := c.compiler.Compile(code)
	if err != nil {
		return err
	}
	vectors, err := pluginpkg.ParseVectors("test_vectors", code.TestVectors)
	if err != nil {
		return err
	}
	if config == nil {
		config = json.RawMessage("{}")
	}

	results := pluginpkg.Run(ctx, plugin, vectors, pluginpkg.RunOptions{BindingConfig: config})
	return pluginpkg.FirstFailure(results)
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

func (c *Checker) recordFailure(b *bundle.Bundle, binding string, code bundle.PluginCode, err error) {
	failure := Failure{
		Tenant:   b.Tenant,
		Revision: b.Revision,
		Binding:  binding,
		Plugin:   code.Name,
		Version:  code.Version,
		Error:    err.Error(),
		Time:     time.Now().UTC(),
	}

	c.mu.Lock()
	c.failures[b.Tenant] = failure
	c.mu.Unlock()

	c.failed.Inc()
	c.logger.Error("pre-flight failed, the previous revision keeps serving",
		"tenant", b.Tenant, "revision", b.Revision, "binding", binding,
		"plugin", code.Name, "version", code.Version, "error", err)
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
