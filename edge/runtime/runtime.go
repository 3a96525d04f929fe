// Package runtime compiles a tenant's bundle into the form that serves
// requests: a route table, one balancer per upstream and one plugin chain
// per route.
package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/router"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// Runtime is one tenant's compiled config at one revision. It is immutable
// and safe for concurrent use.
type Runtime struct {
	Tenant   string
	Revision int64
	Hash     string
	// Size estimates the memory the runtime holds, in bytes. It is the size
	// of the bundle's JSON encoding, which leaves out compiled plugins
	// because runtimes share them.
	Size int64
	// DebugHeaders makes responses name the plugin versions that ran.
	DebugHeaders bool

	routes    []*Route
	table     *router.Table[*Route]
	consumers *Consumers
}

// Route is a compiled route: where its requests go and which plugins run on
// them.
type Route struct {
	Name     string
	Upstream string
	Balancer *balancer.Balancer
	// Chain runs for requests whose consumer is unknown.
	Chain *chain.Chain
	// MaxBodyBytes bounds the request body, and the edge responds 413 above
	// it.
	MaxBodyBytes int64

	// consumerChains holds, for each consumer with consumer-scope
	// bindings, the chain that runs once a plugin identified it. Nil
	// when the tenant has no consumer-scope binding.
	consumerChains *consumerChains
}

// Match returns the route for a request, or false when no route matches.
func (rt *Runtime) Match(method, path string) (*Route, bool) {
	result, ok := rt.table.Match(&router.Request{Method: method, Path: path})
	return result.Value, ok
}

// MatchRequest returns the route for a request whose path CleanPath
// decoded to path, and the values of the route's path parameters.
func (rt *Runtime) MatchRequest(r *http.Request, path string) (*Route, map[string]string, bool) {
	request := router.Request{Method: r.Method, Host: r.Host, Path: path, Header: r.Header, RawQuery: r.URL.RawQuery}
	result, ok := rt.table.Match(&request)
	return result.Value, result.Params, ok
}

// Routes returns the compiled routes in bundle order. Callers must not
// modify the returned slice.
func (rt *Runtime) Routes() []*Route {
	return rt.routes
}

// Build compiles b, using compiler for its plugins. It returns an error when
// the bundle's hash does not match, or when a route, upstream or binding is
// invalid or refers to something the bundle lacks. A bundle with an empty
// Hash is not checked.
func Build(b *bundle.Bundle, compiler *chain.Compiler) (*Runtime, error) {
	return BuildWith(b, Options{Compiler: compiler})
}

// Options are what BuildWith needs besides the bundle.
type Options struct {
	// Compiler compiles plugin versions. It is required.
	Compiler *chain.Compiler
	// Supervisor gives each step its deadline, failure policy and tenant
	// budget. Nil builds steps without guards.
	Supervisor *chain.Supervisor
	// Sandbox runs the hooks of unreviewed plugin versions in worker
	// processes. Nil runs every hook in-process.
	Sandbox *sandbox.Pool
}

// BuildWith is Build with a supervisor for the plugin steps.
func BuildWith(b *bundle.Bundle, opts Options) (*Runtime, error) {
	compiler := opts.Compiler
	encoded, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode bundle of tenant %q revision %d: %w", b.Tenant, b.Revision, err)
	}
	if b.Hash != "" {
		if err := b.Verify(); err != nil {
			return nil, err
		}
	}

	balancers, err := buildUpstreams(b.Tenant, b.Upstreams)
	if err != nil {
		return nil, err
	}

	steps, err := bindPlugins(b, compiler, opts.Supervisor, opts.Sandbox)
	if err != nil {
		return nil, err
	}

	routes, err := buildRoutes(b, balancers, steps)
	if err != nil {
		return nil, err
	}
	consumers, err := buildConsumers(b.Consumers)
	if err != nil {
		return nil, err
	}
	if err := addConsumerChains(routes, steps, consumers); err != nil {
		return nil, err
	}

	entries := make([]router.Entry[*Route], 0, len(routes))
	for i, route := range routes {
		route.MaxBodyBytes = b.Routes[i].BodyLimit()
		entries = append(entries, router.Entry[*Route]{Route: &b.Routes[i], Value: route})
	}

	return &Runtime{
		Tenant:   b.Tenant,
		Revision: b.Revision,
		Hash:     b.Hash,
		Size:     int64(len(encoded)),

		DebugHeaders: b.DebugHeaders,
		routes:       routes,
		table:        router.New(entries),
		consumers:    consumers,
	}, nil
}

// buildUpstreams compiles each upstream of tenant into its balancer. The
// targets' health lives in the edge, keyed by tenant, upstream and target
// URL, so it carries over to the next revision.
func buildUpstreams(tenant string, upstreams []config.Upstream) (map[string]*balancer.Balancer, error) {
	balancers := make(map[string]*balancer.Balancer, len(upstreams))
	for i := range upstreams {
		upstream := &upstreams[i]
		if _, dup := balancers[upstream.Name]; dup {
			return nil, fmt.Errorf("upstream %q is defined twice", upstream.Name)
		}

		b, err := balancer.Build(tenant, upstream)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: %w", upstream.Name, err)
		}
		balancers[upstream.Name] = b
	}
	return balancers, nil
}

// bindPlugins compiles the plugin of every enabled binding and binds its
// config. The result is in bundle order.
func bindPlugins(b *bundle.Bundle, compiler *chain.Compiler, supervisor *chain.Supervisor, pool *sandbox.Pool) ([]boundStep, error) {
	steps := make([]boundStep, 0, len(b.Bindings))
	var sandboxed sandboxedBindings
	for _, binding := range b.Bindings {
		if !binding.IsEnabled() {
			continue
		}
		code, ok := b.Plugins[bundle.Key(binding.Plugin, binding.Version)]
		if !ok {
			return nil, fmt.Errorf("binding %q: plugin %q version %q is missing from the bundle", binding.ID, binding.Plugin, binding.Version)
		}
		if code.Name != binding.Plugin || code.Version != binding.Version {
			return nil, fmt.Errorf("binding %q: bundle entry for plugin %q version %q is invalid: it contains plugin %q version %q", binding.ID, binding.Plugin, binding.Version, code.Name, code.Version)
		}

		if err := compiler.Verify(code); err != nil {
			return nil, fmt.Errorf("binding %q: %w", binding.ID, err)
		}

		var instance *pluginhost.Instance
		var err error
		if pool != nil && isSandboxed(binding, code) {
			err = sandboxed.add(len(steps), binding, code)
		} else {
			instance, err = bindInProcess(compiler, b.Tenant, binding, code)
		}
		if err != nil {
			return nil, err
		}

		step := chain.Step{Binding: binding.ID, Plugin: binding.Plugin, Version: binding.Version, Instance: instance}
		if supervisor != nil {
			timeout := time.Duration(binding.Timeout()) * time.Millisecond
			step.Guard = supervisor.Guard(b.Tenant, step, timeout, binding.OnError == config.OnErrorOpen)
		}
		priority := code.Priority
		if binding.Priority != nil {
			priority = *binding.Priority
		}
		steps = append(steps, boundStep{route: binding.Route, consumer: binding.Consumer, priority: priority, step: step})
	}
	if err := sandboxed.load(pool, b.Tenant, steps); err != nil {
		return nil, err
	}
	return steps, nil
}

// boundStep is a chain step and its binding's scope: the route or the
// consumer it is bound to, both empty for the whole tenant.
type boundStep struct {
	route    string
	consumer string
	priority int
	step     chain.Step
}

// scopedSteps returns the steps that apply to route for consumer, in run
// order. consumer is "" for a request whose consumer is unknown.
//
// Precedence: for each plugin, only the bindings of the most specific scope
// that applies run: consumer before route before tenant. The steps then run
// by priority, highest first, and in bundle (creation) order at equal
// priority.
func scopedSteps(steps []boundStep, route, consumer string) []chain.Step {
	best := map[string]int{}
	for _, bound := range steps {
		rank := bound.rank(route, consumer)
		if current, seen := best[bound.step.Plugin]; !seen || rank > current {
			best[bound.step.Plugin] = rank
		}
	}

	var selected []boundStep
	for _, bound := range steps {
		if rank := bound.rank(route, consumer); rank >= 0 && rank == best[bound.step.Plugin] {
			selected = append(selected, bound)
		}
	}
	sort.SliceStable(selected, func(i, j int) bool {
		return selected[i].priority > selected[j].priority
	})

	out := make([]chain.Step, len(selected))
	for i, bound := range selected {
		out[i] = bound.step
	}
	return out
}

// Scope ranks of a binding for one route and consumer.
const (
	rankNone     = -1
	rankTenant   = 0
	rankRoute    = 1
	rankConsumer = 2
)

// rank returns how specifically the binding applies to route and consumer,
// or rankNone when it does not apply.
func (b *boundStep) rank(route, consumer string) int {
	switch {
	case b.consumer != "":
		if b.consumer == consumer {
			return rankConsumer
		}
		return rankNone
	case b.route != "":
		if b.route == route {
			return rankRoute
		}
		return rankNone
	}
	return rankTenant
}

func buildRoutes(b *bundle.Bundle, balancers map[string]*balancer.Balancer, steps []boundStep) ([]*Route, error) {
	names := make(map[string]bool, len(b.Routes))
	routes := make([]*Route, 0, len(b.Routes))
	for _, route := range b.Routes {
		if names[route.Name] {
			return nil, fmt.Errorf("route %q is defined twice", route.Name)
		}
		names[route.Name] = true

		if len(route.Paths) == 0 {
			return nil, fmt.Errorf("route %q has no paths", route.Name)
		}
		upstream, ok := balancers[route.Upstream]
		if !ok {
			return nil, fmt.Errorf("route %q: upstream %q is not defined", route.Name, route.Upstream)
		}

		ordered := scopedSteps(steps, route.Name, "")
		routes = append(routes, &Route{Name: route.Name, Upstream: route.Upstream, Balancer: upstream.WithTimeouts(route.Timeouts), Chain: chain.New(ordered)})
	}

	var unknown []error
	for _, bound := range steps {
		if bound.route != "" && !names[bound.route] {
			unknown = append(unknown, fmt.Errorf("binding %q: route %q is not defined", bound.step.Binding, bound.route))
		}
	}
	return routes, errors.Join(unknown...)
}
