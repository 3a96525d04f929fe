package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// Limits of a try request.
const (
	// maxTryHeaders caps the headers of the sample request.
	maxTryHeaders = 64
	// tryTimeout bounds the whole run of a route's chain.
	tryTimeout = 5 * time.Second
	// tryHookTimeout bounds each hook, like the edge's default deadline.
	tryHookTimeout = time.Duration(config.DefaultTimeoutMS) * time.Millisecond
)

// tryRequest is the body of POST .../routes/{route}/try: the sample client
// request.
type tryRequest struct {
	// Method defaults to GET and Path to "/".
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// tryResponse is the result of a try.
type tryResponse struct {
	Route    string `json:"route"`
	Revision int64  `json:"revision"`
	pluginpkg.Trace
	// Skipped lists the bindings that did not run, with the reason.
	Skipped []string `json:"skipped"`
}

func (r *tryRequest) validate() error {
	var issues []error
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if !isHTTPMethod(r.Method) {
		issues = append(issues, config.Invalid("method", "%q is not an HTTP method: use upper-case names such as \"GET\"", r.Method))
	}
	if !strings.HasPrefix(r.Path, "/") || len(r.Path) > config.MaxPathLength {
		issues = append(issues, config.Invalid("path", "path must start with \"/\" and have at most %d bytes", config.MaxPathLength))
	}
	if strings.HasPrefix(r.Query, "?") {
		issues = append(issues, config.Invalid("query", "query is the raw query string without the leading \"?\""))
	}
	if len(r.Headers) > maxTryHeaders {
		issues = append(issues, config.Invalid("headers", "headers has %d entries, above the limit of %d", len(r.Headers), maxTryHeaders))
	}
	for name := range r.Headers {
		if name == "" || strings.ContainsAny(name, " :\r\n") {
			issues = append(issues, config.Invalid("headers."+name, "header name is empty or contains a space, a colon or a line break"))
		}
	}
	return errors.Join(issues...)
}

func isHTTPMethod(method string) bool {
	return slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, method)
}

// tryRoute runs the route's plugin chain in the portal against a sample
// request, without calling the upstream.
func (h *handlers) tryRoute(c *fiber.Ctx) (int, any, error) {
	var input tryRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	if err := input.validate(); err != nil {
		return failed(err)
	}

	current, err := h.store.Bundle(requestContext(c), c.Params("slug"))
	if errors.Is(err, bundle.ErrTenantNotFound) {
		return failed(&store.NotFoundError{Resource: "tenant", Name: c.Params("slug")})
	}
	if err != nil {
		return failed(err)
	}
	route := c.Params("name")
	if !slices.ContainsFunc(current.Routes, func(r config.Route) bool { return r.Name == route }) {
		return failed(&store.NotFoundError{Resource: "route", Name: route})
	}

	steps, skipped := routeSteps(current, route)
	ctx, cancel := context.WithTimeout(requestContext(c), tryTimeout)
	defer cancel()
	trace, err := h.tracer(ctx, current.Tenant, steps, pluginpkg.VectorRequest(input), tryHookTimeout)
	if err != nil {
		return failed(&TraceError{Route: route, Err: err})
	}
	return ok(tryResponse{Route: route, Revision: current.Revision, Trace: trace, Skipped: skipped})
}

// routeSteps returns the enabled bindings that apply to the route, in the
// edge's order: for each plugin only the most specific scope (route before
// tenant-wide), then by priority, highest first, and creation order at
// equal priority.
//
// NOTE: bindings scoped to a consumer are skipped, because a sample request
// identifies no consumer before the chain runs.
func routeSteps(current *bundle.Bundle, route string) ([]pluginpkg.TraceSource, []string) {
	type candidate struct {
		binding  config.Binding
		code     bundle.PluginCode
		priority int
	}
	skipped := []string{}
	routeScoped := map[string]bool{}
	for _, binding := range current.Bindings {
		if binding.Route == route && binding.Consumer == "" && binding.IsEnabled() {
			routeScoped[binding.Plugin] = true
		}
	}

	var candidates []candidate
	for _, binding := range current.Bindings {
		switch {
		case binding.Route != "" && binding.Route != route:
			continue
		case !binding.IsEnabled():
			skipped = append(skipped, fmt.Sprintf("binding %q: disabled", binding.ID))
			continue
		case binding.Consumer != "":
			skipped = append(skipped, fmt.Sprintf("binding %q: scoped to consumer %q", binding.ID, binding.Consumer))
			continue
		case binding.Route == "" && routeScoped[binding.Plugin]:
			skipped = append(skipped, fmt.Sprintf("binding %q: a binding of the route overrides it", binding.ID))
			continue
		}
		code := current.Plugins[bundle.Key(binding.Plugin, binding.Version)]
		priority := code.Priority
		if binding.Priority != nil {
			priority = *binding.Priority
		}
		candidates = append(candidates, candidate{binding: binding, code: code, priority: priority})
	}
	slices.SortStableFunc(candidates, func(a, b candidate) int { return b.priority - a.priority })

	steps := make([]pluginpkg.TraceSource, 0, len(candidates))
	for _, c := range candidates {
		steps = append(steps, pluginpkg.TraceSource{
			Binding: c.binding.ID, Plugin: c.code.Name, Version: c.code.Version, Source: c.code.Source,
			Config: json.RawMessage(c.binding.Config),
		})
	}
	return steps, skipped
}

// TraceError reports that a route's plugins could not run for a try: a
// source that does not compile, a config that does not bind, or a plugin
// worker that died or missed its deadline. A hook that fails is part of
// the trace instead.
type TraceError struct {
	Route string
	Err   error
}

func (e *TraceError) Error() string {
	return fmt.Sprintf("the plugins of route %q could not run: %v", e.Route, e.Err)
}

func (e *TraceError) Unwrap() error {
	return e.Err
}

// Tracer runs the request phases of a chain against a sample request, as
// pluginpkg.TraceChain does, with each hook bounded by hookTimeout.
type Tracer func(ctx context.Context, tenant string, steps []pluginpkg.TraceSource, request pluginpkg.VectorRequest, hookTimeout time.Duration) (pluginpkg.Trace, error)

// TraceInProcess is the Tracer that compiles and runs the plugins in the
// calling process. A script that exhausts memory or overflows its stack
// ends that process, so a portal with plugin workers traces in a worker
// instead.
func TraceInProcess(ctx context.Context, _ string, steps []pluginpkg.TraceSource, request pluginpkg.VectorRequest, hookTimeout time.Duration) (pluginpkg.Trace, error) {
	compiled, err := pluginpkg.CompileTrace(steps)
	if err != nil {
		return pluginpkg.Trace{}, err
	}
	return pluginpkg.TraceChain(ctx, compiled, request, hookTimeout)
}
