package observe

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"portcullis.dev/edge/chain"
)

// Span names. They are fixed, so trace backends can group on them.
const (
	RequestSpan  = "edge request"
	UpstreamSpan = "upstream"
	// HookSpanPrefix is followed by the phase, as in "plugin rewrite".
	HookSpanPrefix = "plugin "
)

// Attribute keys of the edge's own span attributes. The others follow the
// OpenTelemetry semantic conventions for HTTP.
const (
	TenantKey        = attribute.Key("portcullis.tenant")
	RouteKey         = attribute.Key("portcullis.route")
	RequestIDKey     = attribute.Key("portcullis.request_id")
	PluginKey        = attribute.Key("portcullis.plugin")
	PluginVersionKey = attribute.Key("portcullis.plugin.version")
	BindingKey       = attribute.Key("portcullis.binding")
	PhaseKey         = attribute.Key("portcullis.phase")
	StatusCodeKey    = attribute.Key("http.response.status_code")
)

// tracerName is the instrumentation scope of the edge's spans.
const tracerName = "portcullis.dev/edge"

// MaxHookSpans is the number of plugin hook spans recorded per request.
// body_filter hooks run once per chunk of a streamed body, so without the
// cap a long body would add a span per 32 KiB read. Later hook calls are
// counted in the request span's portcullis.hook_spans_dropped attribute.
const MaxHookSpans = 128

// hookSpansKey is the context key of a request's *hookSpans.
type hookSpansKey struct{}

// hookSpans counts the hook spans of one request.
type hookSpans struct {
	recorded atomic.Int32
	dropped  atomic.Int32
}

// Tracer starts the spans of edge requests and carries W3C trace context
// (traceparent and tracestate) from the client to the upstream. A nil
// *Tracer is off, and its methods do nothing.
type Tracer struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// NewTracer returns a Tracer that creates spans with provider, or nil when
// provider is nil.
func NewTracer(provider trace.TracerProvider) *Tracer {
	if provider == nil {
		return nil
	}
	return &Tracer{tracer: provider.Tracer(tracerName), propagator: propagation.TraceContext{}}
}

// StartRequest starts the span of a request that arrived, as a child of
// the client's traceparent when it sent a valid one and as a new trace
// otherwise. It returns r with the span in its context.
func (t *Tracer) StartRequest(r *http.Request, requestID string) (*http.Request, trace.Span) {
	ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", r.Method),
		attribute.String("url.path", r.URL.Path),
		attribute.String("server.address", hostWithoutPort(r.Host)),
		attribute.String("network.protocol.version", protocolVersion(r)),
		RequestIDKey.String(requestID),
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, attribute.String("client.address", host))
	}

	ctx, span := t.tracer.Start(ctx, RequestSpan, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	if span.IsRecording() {
		ctx = context.WithValue(ctx, hookSpansKey{}, &hookSpans{})
	}
	return r.WithContext(ctx), span
}

// EndRequest sets the request span's tenant, route and status, and ends it.
// r is the request that StartRequest returned.
func EndRequest(r *http.Request, span trace.Span, tenant, route string, status int) {
	span.SetAttributes(TenantKey.String(tenant), RouteKey.String(route), StatusCodeKey.Int(status))
	if counts, ok := r.Context().Value(hookSpansKey{}).(*hookSpans); ok && counts.dropped.Load() > 0 {
		span.SetAttributes(attribute.Int("portcullis.hook_spans_dropped", int(counts.dropped.Load())))
	}
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// StartUpstream starts the span of the call to the upstream as a child of
// the span in out's context, and writes its trace context into out's
// traceparent and tracestate headers, replacing the client's.
func (t *Tracer) StartUpstream(out *http.Request) trace.Span {
	ctx, span := t.tracer.Start(out.Context(), UpstreamSpan, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", out.Method)))
	t.propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	return span
}

// EndUpstream sets the upstream span's target ("host:port", empty when
// none was picked) and status, and ends it at end, the time of the response
// header or of the failure.
func EndUpstream(span trace.Span, target string, status int, end time.Time) {
	span.SetAttributes(StatusCodeKey.Int(status))
	if target != "" {
		span.SetAttributes(attribute.String("server.address", target))
	}
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End(trace.WithTimestamp(end))
}

// RecordHook records a finished plugin hook call as a child span of the
// span in ctx, with the call's start and end times. It records nothing when
// ctx carries no recording span, as in the log phase, which runs after the
// request ended, nor past MaxHookSpans calls of one request.
func (t *Tracer) RecordHook(ctx context.Context, call chain.HookCall) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return
	}
	if counts, ok := ctx.Value(hookSpansKey{}).(*hookSpans); ok && counts.recorded.Add(1) > MaxHookSpans {
		counts.dropped.Add(1)
		return
	}

	_, span := t.tracer.Start(ctx, HookSpanPrefix+call.Phase, trace.WithTimestamp(call.Started), trace.WithAttributes(
		PluginKey.String(call.Step.Plugin),
		PluginVersionKey.String(call.Step.Version),
		BindingKey.String(call.Step.Binding),
		PhaseKey.String(call.Phase),
		TenantKey.String(call.Tenant),
	))
	if call.Err != nil {
		span.SetStatus(codes.Error, call.Cause)
		span.RecordError(call.Err)
	}
	span.End(trace.WithTimestamp(call.Started.Add(call.Elapsed)))
}

func hostWithoutPort(host string) string {
	if name, _, err := net.SplitHostPort(host); err == nil {
		return name
	}
	return host
}

func protocolVersion(r *http.Request) string {
	switch r.ProtoMajor {
	case 3:
		return "3"
	case 2:
		return "2"
	}
	if r.ProtoMinor == 0 {
		return "1.0"
	}
	return "1.1"
}
