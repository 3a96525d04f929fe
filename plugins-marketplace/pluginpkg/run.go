package pluginpkg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/plugins-marketplace/pluginhost"
)

// DefaultHookTimeout bounds each hook call of a vector when
// RunOptions.HookTimeout is zero.
const DefaultHookTimeout = time.Second

// RunOptions configure Run.
type RunOptions struct {
	// Redis serves ctx.limit.redis. Nil skips the vectors that require
	// Redis.
	Redis *redis.Client
	// BindingConfig, when not nil, is the binding config that the vectors
	// marked binding_config run with. Nil skips them.
	BindingConfig json.RawMessage
	// OnlyBindingConfig runs only the vectors marked binding_config.
	OnlyBindingConfig bool
	// HookTimeout bounds each hook call. Zero means DefaultHookTimeout.
	HookTimeout time.Duration
	// Logger receives the plugins' ctx.log lines. Nil discards them.
	Logger *slog.Logger
}

// Outcome is whether a vector passed, failed or was skipped.
type Outcome string

// Vector outcomes.
const (
	Passed  Outcome = "pass"
	Failed  Outcome = "fail"
	Skipped Outcome = "skip"
)

// Result is the outcome of one vector.
type Result struct {
	Vector  string
	Outcome Outcome
	// Differences lists what differed from the expectation, or why the
	// vector was skipped.
	Differences []string
}

// VectorError reports the first failing vector of a run.
type VectorError struct {
	Vector      string
	Differences []string
}

// Error names the vector and what differed.
func (e *VectorError) Error() string {
	return fmt.Sprintf("test vector %q failed: %s", e.Vector, strings.Join(e.Differences, "; "))
}

// FirstFailure returns a *VectorError for the first failed result, or nil.
func FirstFailure(results []Result) error {
	for _, result := range results {
		if result.Outcome == Failed {
			return &VectorError{Vector: result.Vector, Differences: result.Differences}
		}
	}
	return nil
}

// Count returns how many results have each outcome.
func Count(results []Result) (passed, failed, skipped int) {
	for _, result := range results {
		switch result.Outcome {
		case Passed:
			passed++
		case Failed:
			failed++
		case Skipped:
			skipped++
		}
	}
	return passed, failed, skipped
}

// runCounter makes the tenant of each vector run unique, so counters in a
// shared Redis never carry over between runs.
var runCounter atomic.Int64

// Run executes vectors against plugin in order, each with its own host
// state, and returns one Result per vector. It stops early only when ctx
// ends, and reports the vectors left as failed, so a run cut short by a
// deadline never counts as passed.
func Run(ctx context.Context, plugin *pluginhost.Plugin, vectors []Vector, opts RunOptions) []Result {
	if opts.HookTimeout <= 0 {
		opts.HookTimeout = DefaultHookTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	results := make([]Result, 0, len(vectors))
	for i := range vectors {
		results = append(results, runVector(ctx, plugin, &vectors[i], opts))
	}
	return results
}

func runVector(ctx context.Context, plugin *pluginhost.Plugin, vector *Vector, opts RunOptions) Result {
	if err := ctx.Err(); err != nil {
		return Result{Vector: vector.Name, Outcome: Failed, Differences: []string{"not run: " + err.Error()}}
	}
	if reason := skipReason(vector, opts); reason != "" {
		return Result{Vector: vector.Name, Outcome: Skipped, Differences: []string{reason}}
	}

	config := vector.Config
	if vector.BindingConfig {
		config = opts.BindingConfig
	}
	tenant := fmt.Sprintf("vector-test-%d-%d", time.Now().UnixNano(), runCounter.Add(1))
	instance, err := plugin.BindWith(config, pluginhost.BindOptions{Tenant: tenant, Binding: "vector"})
	if err != nil {
		return Result{Vector: vector.Name, Outcome: Failed, Differences: []string{err.Error()}}
	}

	services := hostsvc.New(opts.Logger, opts.Redis).Tenant(tenant)
	var got response
	for range max(vector.Repeat, 1) {
		got = simulate(ctx, instance, vector, services, opts.HookTimeout)
	}

	differences := compare(vector, &got)
	if len(differences) > 0 {
		return Result{Vector: vector.Name, Outcome: Failed, Differences: differences}
	}
	return Result{Vector: vector.Name, Outcome: Passed}
}

func skipReason(vector *Vector, opts RunOptions) string {
	switch {
	case vector.BindingConfig && opts.BindingConfig == nil:
		return "runs only with a binding's config, at the edge's pre-flight"
	case !vector.BindingConfig && opts.OnlyBindingConfig:
		return "runs only without a binding's config"
	case requires(vector, RequirementRedis) && opts.Redis == nil:
		return "requires Redis, and none is configured"
	}
	return ""
}

func requires(vector *Vector, need string) bool {
	for _, item := range vector.Requires {
		if item == need {
			return true
		}
	}
	return false
}

// noNetwork is the host of a vector run or a route try. It serves the
// tenant's state and rate limits, and rejects outbound HTTP, because both
// run offline.
type noNetwork struct {
	pluginhost.Host
}

func (noNetwork) Fetch(context.Context, pluginhost.Caller, pluginhost.OutboundRequest) (pluginhost.OutboundResponse, error) {
	return pluginhost.OutboundResponse{}, errors.New("outbound HTTP is not available in test vectors and route tries, which run offline: test the plugin's ctx.http error path instead")
}

// TestSource compiles source, parses vectors (a JSON array) and runs them
// with opts, as the portal does at publish time. It returns a *VectorError
// for the first failing vector, and a *ValidationError for invalid vectors.
func TestSource(ctx context.Context, name, version, source string, vectors []byte, opts RunOptions) error {
	parsed, err := ParseVectors("test_vectors", vectors)
	if err != nil {
		return err
	}
	plugin, err := pluginhost.Compile(name, version, source)
	if err != nil {
		return fmt.Errorf("compile plugin %q version %q: %w", name, version, err)
	}
	return FirstFailure(Run(ctx, plugin, parsed, opts))
}
