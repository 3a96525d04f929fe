package pluginpkg

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"time"

	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/plugins-marketplace/pluginhost"
)

// TraceStep is one plugin of a chain to trace, in run order.
type TraceStep struct {
	Binding string
	Plugin  *pluginhost.Plugin
	// Config is the binding's config. Nil means {}.
	Config json.RawMessage
}

// TraceSource is a TraceStep before its plugin is compiled: the binding
// with its plugin's source.
type TraceSource struct {
	Binding string
	Plugin  string
	Version string
	Source  string
	// Config is the binding's config. Nil means {}.
	Config json.RawMessage
}

// CompileTrace compiles the plugin of each source, in order, into the steps
// of TraceChain. It runs each plugin's top-level code.
func CompileTrace(sources []TraceSource) ([]TraceStep, error) {
	steps := make([]TraceStep, 0, len(sources))
	for _, source := range sources {
		plugin, err := pluginhost.Compile(source.Plugin, source.Version, source.Source)
		if err != nil {
			return nil, fmt.Errorf("compile plugin %q version %q of binding %q: %w", source.Plugin, source.Version, source.Binding, err)
		}
		steps = append(steps, TraceStep{Binding: source.Binding, Plugin: plugin, Config: source.Config})
	}
	return steps, nil
}

// Effect is the change that one hook of one plugin made to the request.
type Effect struct {
	Binding string `json:"binding"`
	Plugin  string `json:"plugin"`
	Version string `json:"version"`
	Phase   string `json:"phase"`
	// HeadersSet lists the request headers the hook added or changed, with
	// their new first value.
	HeadersSet map[string]string `json:"headers_set,omitempty"`
	// HeadersRemoved lists the request headers the hook removed.
	HeadersRemoved []string `json:"headers_removed,omitempty"`
	// PathFrom and PathTo are set when the hook rewrote the path.
	PathFrom string `json:"path_from,omitempty"`
	PathTo   string `json:"path_to,omitempty"`
	// QueryTo is set when the hook changed the query string.
	QueryTo *string `json:"query_to,omitempty"`
	// Exit is set when the hook ended the request with a response.
	Exit *TraceExit `json:"exit,omitempty"`
	// Vars lists the ctx.vars entries the hook set or changed.
	Vars map[string]any `json:"vars,omitempty"`
	// Error is the hook's error. The chain stops there, as it does at the
	// edge for a binding that fails closed.
	Error string `json:"error,omitempty"`
}

// TraceExit is a response that a hook sent in place of the upstream's.
type TraceExit struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// UpstreamRequest is the request the upstream would receive.
type UpstreamRequest struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   string              `json:"query"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// Trace is the result of TraceChain.
type Trace struct {
	// Effects lists each hook that changed something, ended the request or
	// failed, in run order.
	Effects []Effect `json:"effects"`
	// Upstream is nil when a hook ended the request or failed.
	Upstream *UpstreamRequest `json:"upstream"`
	// Exit is the response a hook sent, or nil.
	Exit *TraceExit `json:"exit,omitempty"`
	// Vars is ctx.vars at the end of the request phases.
	Vars map[string]any `json:"vars"`
}

// TraceChain runs the request phases (rewrite, access, before_proxy) of a
// chain against one request without an upstream, and returns each hook's
// effect and the request that the upstream would receive. Each hook runs
// under timeout, and outbound HTTP is rejected as in test vectors. The
// response phases do not run, because no upstream response exists.
func TraceChain(ctx context.Context, steps []TraceStep, request VectorRequest, timeout time.Duration) (Trace, error) {
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	tenant := fmt.Sprintf("try-%d-%d", time.Now().UnixNano(), runCounter.Add(1))
	instances := make([]*pluginhost.Instance, len(steps))
	for i, step := range steps {
		instance, err := step.Plugin.BindWith(step.Config, pluginhost.BindOptions{Tenant: tenant, Binding: step.Binding})
		if err != nil {
			return Trace{}, fmt.Errorf("bind %s: %w", step.Binding, err)
		}
		instances[i] = instance
	}

	vector := &Vector{Request: request}
	ex := newExchange(vector, hostsvc.New(slog.New(slog.DiscardHandler), nil).Tenant(tenant))
	trace := Trace{Effects: []Effect{}}
	for _, phase := range requestPhases {
		for i, step := range steps {
			if !step.Plugin.Has(phase) {
				continue
			}
			effect, stop := traceHook(ctx, instances[i], step, phase, ex, timeout)
			if effect != nil {
				trace.Effects = append(trace.Effects, *effect)
			}
			if stop {
				trace.Exit = effect.Exit
				trace.Vars = ex.Vars
				return trace, nil
			}
		}
	}

	trace.Vars = ex.Vars
	trace.Upstream = &UpstreamRequest{
		Method:  ex.Request.Method,
		Path:    ex.Request.Path,
		Query:   ex.Request.RawQuery,
		Headers: map[string][]string(ex.Request.Header.Clone()),
		Body:    request.Body,
	}
	if trace.Upstream.Headers == nil {
		trace.Upstream.Headers = map[string][]string{}
	}
	return trace, nil
}

// traceHook runs one hook and returns its effect, or nil when it changed
// nothing. stop is true when the hook ended the request or failed.
func traceHook(ctx context.Context, instance *pluginhost.Instance, step TraceStep, phase pluginhost.Phase, ex *pluginhost.Exchange, timeout time.Duration) (*Effect, bool) {
	beforeHeader := ex.Request.Header.Clone()
	beforePath, beforeQuery := ex.Request.Path, ex.Request.RawQuery
	beforeVars := cloneVars(ex.Vars)

	err := runPhase(ctx, instance, phase, ex, timeout)

	effect := &Effect{Binding: step.Binding, Plugin: step.Plugin.Name(), Version: step.Plugin.Version(), Phase: string(phase)}
	effect.HeadersSet, effect.HeadersRemoved = headerChanges(beforeHeader, ex.Request.Header)
	if ex.Request.Path != beforePath {
		effect.PathFrom, effect.PathTo = beforePath, ex.Request.Path
	}
	if ex.Request.RawQuery != beforeQuery {
		query := ex.Request.RawQuery
		effect.QueryTo = &query
	}
	effect.Vars = varChanges(beforeVars, ex.Vars)

	switch {
	case err != nil:
		effect.Error = err.Error()
		return effect, true
	case ex.Exit != nil:
		effect.Exit = &TraceExit{Status: ex.Exit.Status, Body: ex.Exit.Body}
		return effect, true
	}
	if len(effect.HeadersSet) == 0 && len(effect.HeadersRemoved) == 0 && effect.PathTo == "" && effect.QueryTo == nil && len(effect.Vars) == 0 {
		return nil, false
	}
	return effect, false
}

func headerChanges(before, after http.Header) (map[string]string, []string) {
	var set map[string]string
	for name, values := range after {
		if !slices.Equal(before[name], values) && len(values) > 0 {
			if set == nil {
				set = map[string]string{}
			}
			set[name] = values[0]
		}
	}
	var removed []string
	for name := range before {
		if len(after[name]) == 0 {
			removed = append(removed, name)
		}
	}
	slices.Sort(removed)
	return set, removed
}

func cloneVars(vars map[string]any) map[string]any {
	clone := make(map[string]any, len(vars))
	for key, value := range vars {
		clone[key] = value
	}
	return clone
}

func varChanges(before, after map[string]any) map[string]any {
	var changed map[string]any
	for key, value := range after {
		if old, found := before[key]; !found || !reflect.DeepEqual(old, value) {
			if changed == nil {
				changed = map[string]any{}
			}
			changed[key] = value
		}
	}
	return changed
}
