// Package runtime compiles a tenant's bundle into the form that serves
// requests: a route table, one balancer per upstream and one plugin chain
// per route.
package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/router"
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

	routes []*Route
	table  *router.Table[*Route]
}

// Route is a compiled route: where its requests go and which plugins run on
// them.
type Route struct {
	Name     string
	Upstream string
	Balancer *balancer.Balancer
	Chain    *chain.Chain
}

// Match returns the route for a request, or false when no route matches.
func (rt *Runtime) Match(method, path string) (*Route, bool) {
	return rt.table.Match(method, path)
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

	balancers, err := buildUpstreams(b.Upstreams)
	if err != nil {
		return nil, err
	}

	steps, err := bindPlugins(b, compiler, opts.Supervisor)
	if err != nil {
		return nil, err
	}

	routes, err := buildRoutes(b, balancers, steps)
	if err != nil {
		return nil, err
	}

	entries := make([]router.Route[*Route], 0, len(routes))
	for i, route := range routes {
		entries = append(entries, router.Route[*Route]{Prefixes: b.Routes[i].Paths, Methods: b.Routes[i].Methods, Value: route})
	}

	return &Runtime{
		Tenant:   b.Tenant,
		Revision: b.Revision,
		Hash:     b.Hash,
		Size:     int64(len(encoded)),

		DebugHeaders: b.DebugHeaders,
		routes:       routes,
		table:        router.New(entries),
	}, nil
}

func buildUpstreams(upstreams []config.Upstream) (map[string]*balancer.Balancer, error) {
	balancers := make(map[string]*balancer.Balancer, len(upstreams))
	for _, upstream := range upstreams {
		if _, dup := balancers[upstream.Name]; dup {
			return nil, fmt.Errorf("upstream %q is defined twice", upstream.Name)
		}

		targets := make([]balancer.Target, 0, len(upstream.Targets))
		for _, target := range upstream.Targets {
			parsed, err := parseTarget(target.URL)
			if err != nil {
				return nil, fmt.Errorf("upstream %q: %w", upstream.Name, err)
			}
			targets = append(targets, balancer.Target{URL: parsed, Weight: target.Weight})
		}

		b, err := balancer.New(targets)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: %w", upstream.Name, err)
		}
		balancers[upstream.Name] = b
	}
	return balancers, nil
}

func parseTarget(raw string) (*url.URL, error) {
	parsed, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q is invalid: %w", raw, err)
	}
	if (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("target %q is invalid: use an absolute http:// or https:// URL", raw)
	}
	return parsed, nil
}

// bindPlugins compiles the plugin of every enabled binding and binds its
// config. The result is in bundle order.
func bindPlugins(b *bundle.Bundle, compiler *chain.Compiler, supervisor *chain.Supervisor) ([]boundStep, error) {
	steps := make([]boundStep, 0, len(b.Bindings))
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

		plugin, err := compiler.Compile(code)
		if err != nil {
			return nil, fmt.Errorf("binding %q: %w", binding.ID, err)
		}

		options := pluginhost.BindOptions{Tenant: b.Tenant, Binding: binding.ID, AllowHosts: binding.AllowHosts}
		instance, err := plugin.BindWith(binding.Config, options)
		if err != nil {
			return nil, fmt.Errorf("binding %q: bind config of plugin %q version %q: %w", binding.ID, binding.Plugin, binding.Version, err)
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
		steps = append(steps, boundStep{route: binding.Route, priority: priority, step: step})
	}
	return steps, nil
}

// boundStep is a chain step and the route it is bound to, empty for all
// routes.
type boundStep struct {
	route    string
	priority int
	step     chain.Step
}

// routeSteps returns the steps that apply to route, in run order.
//
// Precedence: a route-scope binding of a plugin replaces the tenant-scope
// bindings of the same plugin on that route. The steps then run by
// priority, highest first, and in bundle (creation) order at equal
// priority.
func routeSteps(steps []boundStep, route string) []chain.Step {
	routeScoped := map[string]bool{}
	for _, bound := range steps {
		if bound.route == route {
			routeScoped[bound.step.Plugin] = true
		}
	}

	var selected []boundStep
	for _, bound := range steps {
		switch {
		case bound.route == route:
			selected = append(selected, bound)
		case bound.route == "" && !routeScoped[bound.step.Plugin]:
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

		ordered := routeSteps(steps, route.Name)
		routes = append(routes, &Route{Name: route.Name, Upstream: route.Upstream, Balancer: upstream, Chain: chain.New(ordered)})
	}

	var unknown []error
	for _, bound := range steps {
		if bound.route != "" && !names[bound.route] {
			unknown = append(unknown, fmt.Errorf("binding %q: route %q is not defined", bound.step.Binding, bound.route))
		}
	}
	return routes, errors.Join(unknown...)
}
