package edge

import (
	"context"
	"net"
	"net/http"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/metrics"
	"portcullis.dev/edge/observe"
)

// observer contains the edge's optional tracing and access log, next to the
// metrics that are always on.
type observer struct {
	metrics   *metrics.Metrics
	tracer    *observe.Tracer
	accessLog *observe.AccessLog
}

func newObserver(cfg Config, m *metrics.Metrics) *observer {
	return &observer{metrics: m, tracer: observe.NewTracer(cfg.TracerProvider), accessLog: observe.NewAccessLog(cfg.AccessLog)}
}

// hookCalled records a plugin hook call in the metrics and, while tracing
// is on, as a span.
func (o *observer) hookCalled(ctx context.Context, call chain.HookCall) {
	o.pluginTimer(call).Observe(call.Elapsed)
	o.metrics.PluginFailed(call.Tenant, call.Step.Plugin, call.Step.Version, call.Cause)
	if o.tracer != nil {
		o.tracer.RecordHook(ctx, call)
	}
}

// pluginTimer returns the duration series of the call's plugin and phase.
// It keeps the series in the call's memo, so later calls of the same
// binding and phase skip the label lookup.
func (o *observer) pluginTimer(call chain.HookCall) *metrics.PluginTimer {
	if call.Memo == nil {
		return o.metrics.PluginTimer(call.Step.Plugin, call.Phase)
	}
	if timer, ok := call.Memo.Load().(*metrics.PluginTimer); ok {
		return timer
	}

	timer := o.metrics.PluginTimer(call.Step.Plugin, call.Phase)
	call.Memo.Store(timer)
	return timer
}

// begin starts the request span while tracing is on, and counts body bytes
// while the access log is on. With both off it returns w and r as they are.
func (o *observer) begin(w http.ResponseWriter, r *http.Request, state *requestState) (http.ResponseWriter, *http.Request) {
	if o.tracer != nil {
		r, state.span = o.tracer.StartRequest(r, state.id)
	}
	if o.accessLog != nil {
		state.bodyOut = &observe.CountingWriter{ResponseWriter: w}
		w = state.bodyOut
		if r.Body != nil && r.Body != http.NoBody {
			state.bodyIn = &observe.CountingBody{ReadCloser: r.Body}
			r.Body = state.bodyIn
		}
	}
	return w, r
}

// upstreamHook returns the proxy's OnSend hook, which starts the upstream
// span and sends its trace context upstream, or nil while tracing is off.
func (o *observer) upstreamHook(state *requestState) func(*http.Request) {
	if o.tracer == nil {
		return nil
	}
	return func(out *http.Request) {
		state.upstreamSpan = o.tracer.StartUpstream(out)
	}
}

// end records a finished request: the upstream duration metric, the spans
// and the access log line.
func (o *observer) end(r *http.Request, state *requestState, tenant string, status int, elapsed time.Duration) {
	upstream := upstreamDuration(state)
	if upstream > 0 {
		o.metrics.ObserveUpstream(tenant, state.route, status, upstream)
	}
	if state.upstreamSpan != nil {
		end := state.call.Responded
		if end.IsZero() {
			end = time.Now()
		}
		observe.EndUpstream(state.upstreamSpan, upstreamAddr(state), status, end)
	}
	if state.span != nil {
		observe.EndRequest(r, state.span, state.slug, state.route, status)
	}
	if o.accessLog != nil {
		o.accessLog.Write(accessEntry(r, state, status, elapsed, upstream))
	}
}

// upstreamDuration returns the time from sending the request upstream to
// its response header or failure, zero when it was not sent.
func upstreamDuration(state *requestState) time.Duration {
	if state.call == nil || state.call.Sent.IsZero() || state.call.Responded.IsZero() {
		return 0
	}
	return state.call.Responded.Sub(state.call.Sent)
}

func accessEntry(r *http.Request, state *requestState, status int, elapsed, upstream time.Duration) *observe.AccessEntry {
	entry := &observe.AccessEntry{
		RequestID:        state.id,
		Tenant:           state.slug,
		Route:            state.route,
		Method:           r.Method,
		Host:             r.Host,
		Path:             r.URL.Path,
		Protocol:         metrics.Protocol(r),
		Status:           status,
		Duration:         elapsed,
		UpstreamDuration: upstream,
	}
	if state.span != nil {
		entry.TraceID = state.span.SpanContext().TraceID().String()
	}
	if state.exchange != nil {
		// The log phase, which reads the exchange too, starts after this.
		entry.Consumer = state.exchange.Request.Consumer
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		entry.ClientAddr = host
	}
	if state.bodyIn != nil {
		entry.BytesIn = state.bodyIn.N
	}
	if state.bodyOut != nil {
		entry.BytesOut = state.bodyOut.N
	}
	entry.UpstreamAddr = upstreamAddr(state)
	return entry
}

// upstreamAddr returns the host:port of the last upstream target tried,
// empty when the request did not go upstream.
func upstreamAddr(state *requestState) string {
	if state.call == nil || state.call.Target == nil {
		return ""
	}
	return state.call.Target.Host
}
