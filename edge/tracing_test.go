package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"portcullis.dev/edge/observe"
	"portcullis.dev/tenants/config"
)

// otlpReceiver is an OTLP/HTTP trace receiver on loopback that decodes
// every export request and keeps its spans.
type otlpReceiver struct {
	server *httptest.Server

	mu    sync.Mutex
	spans []*tracepb.Span
	paths []string
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	receiver := &otlpReceiver{}
	receiver.server = httptest.NewServer(http.HandlerFunc(receiver.export))
	t.Cleanup(receiver.server.Close)
	return receiver
}

func (o *otlpReceiver) export(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		unzipped, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = unzipped
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var export collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(data, &export); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	o.mu.Lock()
	o.paths = append(o.paths, r.URL.Path)
	for _, resource := range export.ResourceSpans {
		for _, scope := range resource.ScopeSpans {
			o.spans = append(o.spans, scope.Spans...)
		}
	}
	o.mu.Unlock()

	response, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(response)
}

// spansOf returns the received spans of one trace.
func (o *otlpReceiver) spansOf(traceID []byte) []*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	var found []*tracepb.Span
	for _, span := range o.spans {
		if bytes.Equal(span.TraceId, traceID) {
			found = append(found, span)
		}
	}
	return found
}

// tracedEdge starts an edge that exports spans to receiver, for tenant acme
// with route "api" behind the hello plugin and the echo upstream.
func tracedEdge(t *testing.T, receiver *otlpReceiver) (*testEdge, func() []*tracepb.Span) {
	t.Helper()
	provider, err := observe.NewTracerProvider(observe.TracingOptions{Endpoint: receiver.server.URL, SampleRatio: 1, InstanceID: "edge-test"})
	if err != nil {
		t.Fatalf("NewTracerProvider: %v", err)
	}
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })

	upstream, _ := echoUpstream(t, "acme")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL,
		[]config.Route{{Name: "api", Paths: []string{"/"}, Upstream: "api"}},
		[]config.Binding{{ID: "b1", Plugin: "hello", Version: "1.0.0", Config: []byte(`{"greeting":"hi"}`)}},
		plugin("hello", "1.0.0", helloSource("1.0.0"))))
	te := startEdge(t, source, func(cfg *Config) { cfg.TracerProvider = provider })

	flush := func() []*tracepb.Span {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := provider.ForceFlush(ctx); err != nil {
			t.Fatalf("ForceFlush: %v", err)
		}
		return nil
	}
	return te, flush
}

// waitForSpans flushes until the trace has want spans, for at most 5 s: the
// edge ends the request span after the response reached the client.
func waitForSpans(t *testing.T, receiver *otlpReceiver, flush func() []*tracepb.Span, traceID []byte, want int) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		flush()
		spans := receiver.spansOf(traceID)
		if len(spans) >= want || time.Now().After(deadline) {
			return spans
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func spanNamed(t *testing.T, spans []*tracepb.Span, name string) *tracepb.Span {
	t.Helper()
	for _, span := range spans {
		if span.Name == name {
			return span
		}
	}
	t.Fatalf("no span %q among %d spans: %v", name, len(spans), spanNames(spans))
	return nil
}

func spanNames(spans []*tracepb.Span) []string {
	names := make([]string, 0, len(spans))
	for _, span := range spans {
		names = append(names, span.Name)
	}
	return names
}

func attr(span *tracepb.Span, key string) *commonpb.AnyValue {
	for _, kv := range span.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

func checkStringAttr(t *testing.T, span *tracepb.Span, key, want string) {
	t.Helper()
	if got := attr(span, key); got.GetStringValue() != want {
		t.Errorf("span %q attribute %s = %v, want %q", span.Name, key, got, want)
	}
}

// traceparentParts splits a version 00 traceparent into its trace id and
// parent span id.
func traceparentParts(t *testing.T, traceparent string) ([]byte, []byte) {
	t.Helper()
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || parts[0] != "00" {
		t.Fatalf("traceparent %q is not version 00 with four fields", traceparent)
	}
	traceID, err1 := hex.DecodeString(parts[1])
	spanID, err2 := hex.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(traceID) != 16 || len(spanID) != 8 {
		t.Fatalf("traceparent %q has invalid ids", traceparent)
	}
	return traceID, spanID
}

func TestTracingContinuesClientTrace(t *testing.T) {
	receiver := startOTLPReceiver(t)
	te, flush := tracedEdge(t, receiver)

	const clientTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req, err := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+"/orders?token=query-secret", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost:8080"
	req.Header.Set("Traceparent", clientTraceparent)
	req.Header.Set("Tracestate", "vendor=abc")
	resp, err := te.h1.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	got := response{Response: resp, body: readAll(t, resp)}
	resp.Body.Close()
	if got.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", got.StatusCode, got.body)
	}

	clientTrace, clientSpan := traceparentParts(t, clientTraceparent)
	upstreamTrace, upstreamParent := traceparentParts(t, got.seen(t).Header.Get("Traceparent"))
	if !bytes.Equal(upstreamTrace, clientTrace) {
		t.Errorf("upstream trace id = %x, want the client's %x", upstreamTrace, clientTrace)
	}
	if state := got.seen(t).Header.Get("Tracestate"); state != "vendor=abc" {
		t.Errorf("upstream tracestate = %q, want %q", state, "vendor=abc")
	}

	spans := waitForSpans(t, receiver, flush, clientTrace, 4)
	request := spanNamed(t, spans, observe.RequestSpan)
	upstream := spanNamed(t, spans, observe.UpstreamSpan)
	rewrite := spanNamed(t, spans, observe.HookSpanPrefix+"rewrite")
	headerFilter := spanNamed(t, spans, observe.HookSpanPrefix+"header_filter")

	if !bytes.Equal(request.ParentSpanId, clientSpan) {
		t.Errorf("request span parent = %x, want the client's span %x", request.ParentSpanId, clientSpan)
	}
	for _, child := range []*tracepb.Span{upstream, rewrite, headerFilter} {
		if !bytes.Equal(child.ParentSpanId, request.SpanId) {
			t.Errorf("span %q parent = %x, want the request span %x", child.Name, child.ParentSpanId, request.SpanId)
		}
	}
	if !bytes.Equal(upstreamParent, upstream.SpanId) {
		t.Errorf("upstream traceparent parent id = %x, want the upstream span %x", upstreamParent, upstream.SpanId)
	}

	checkStringAttr(t, request, string(observe.TenantKey), "acme")
	checkStringAttr(t, request, string(observe.RouteKey), "api")
	checkStringAttr(t, request, "url.path", "/orders")
	checkStringAttr(t, request, "server.address", "acme.localhost")
	checkStringAttr(t, request, string(observe.RequestIDKey), got.Header.Get("X-Request-Id"))
	if status := attr(request, string(observe.StatusCodeKey)).GetIntValue(); status != 200 {
		t.Errorf("request span status code = %d, want 200", status)
	}
	if status := attr(upstream, string(observe.StatusCodeKey)).GetIntValue(); status != 200 {
		t.Errorf("upstream span status code = %d, want 200", status)
	}
	checkStringAttr(t, rewrite, string(observe.PluginKey), "hello")
	checkStringAttr(t, rewrite, string(observe.PluginVersionKey), "1.0.0")
	if request.Kind != tracepb.Span_SPAN_KIND_SERVER || upstream.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("span kinds = %v and %v, want server and client", request.Kind, upstream.Kind)
	}
	if upstream.StartTimeUnixNano < request.StartTimeUnixNano || upstream.EndTimeUnixNano > request.EndTimeUnixNano {
		t.Errorf("upstream span [%d, %d] is not inside the request span [%d, %d]",
			upstream.StartTimeUnixNano, upstream.EndTimeUnixNano, request.StartTimeUnixNano, request.EndTimeUnixNano)
	}
	for _, span := range spans {
		for _, kv := range span.Attributes {
			if strings.Contains(kv.Value.String(), "query-secret") {
				t.Errorf("span %q attribute %s carries the query string", span.Name, kv.Key)
			}
		}
	}
	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	if len(receiver.paths) == 0 || receiver.paths[0] != observe.DefaultTracesPath {
		t.Errorf("export paths = %v, want %q", receiver.paths, observe.DefaultTracesPath)
	}
}

func TestTracingStartsTraceAtEdge(t *testing.T) {
	receiver := startOTLPReceiver(t)
	te, flush := tracedEdge(t, receiver)

	got := te.do(t, "h2c", http.MethodGet, "acme.localhost", "/start")
	if got.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", got.StatusCode, got.body)
	}

	traceID, parentID := traceparentParts(t, got.seen(t).Header.Get("Traceparent"))
	spans := waitForSpans(t, receiver, flush, traceID, 4)
	request := spanNamed(t, spans, observe.RequestSpan)
	upstream := spanNamed(t, spans, observe.UpstreamSpan)
	if len(request.ParentSpanId) != 0 {
		t.Errorf("request span parent = %x, want none for a trace started at the edge", request.ParentSpanId)
	}
	if !bytes.Equal(parentID, upstream.SpanId) {
		t.Errorf("upstream traceparent parent id = %x, want the upstream span %x", parentID, upstream.SpanId)
	}
	checkStringAttr(t, request, "network.protocol.version", "2")
}

func TestTracingMarksServerErrors(t *testing.T) {
	receiver := startOTLPReceiver(t)
	te, flush := tracedEdge(t, receiver)

	const clientTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req, err := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+"/x", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "unknown.localhost"
	req.Header.Set("Traceparent", clientTraceparent)
	resp, err := te.h1.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()

	traceID, _ := traceparentParts(t, clientTraceparent)
	spans := waitForSpans(t, receiver, flush, traceID, 1)
	request := spanNamed(t, spans, observe.RequestSpan)
	if status := attr(request, string(observe.StatusCodeKey)).GetIntValue(); status != http.StatusNotFound {
		t.Errorf("request span status code = %d, want 404", status)
	}
	if len(spans) != 1 {
		t.Errorf("spans = %v, want only the request span for an unknown tenant", spanNames(spans))
	}
}

func TestTracingOffKeepsClientTraceparent(t *testing.T) {
	upstream, _ := echoUpstream(t, "acme")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, []config.Route{{Name: "api", Paths: []string{"/"}, Upstream: "api"}}, nil))
	te := startEdge(t, source, nil)

	const clientTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req, err := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+"/x", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	req.Header.Set("Traceparent", clientTraceparent)
	resp, err := te.h1.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	got := response{Response: resp, body: readAll(t, resp)}
	resp.Body.Close()

	if seen := got.seen(t).Header.Get("Traceparent"); seen != clientTraceparent {
		t.Errorf("upstream traceparent = %q, want the client's %q unchanged", seen, clientTraceparent)
	}
}

func TestTracingCapsHookSpans(t *testing.T) {
	receiver := startOTLPReceiver(t)
	provider, err := observe.NewTracerProvider(observe.TracingOptions{Endpoint: receiver.server.URL, SampleRatio: 1})
	if err != nil {
		t.Fatalf("NewTracerProvider: %v", err)
	}
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })

	// Each 32 KiB read of this body runs the body_filter hook once.
	const bodyBytes = 8 << 20
	upstream := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), bodyBytes))
	}))
	const passBody = "func body_filter(ctx, conf) {\n}\n"
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream, allRoute,
		[]config.Binding{{ID: "b-pass", Plugin: "pass", Version: "1.0.0", Config: []byte(`{}`)}},
		plugin("pass", "1.0.0", passBody)))
	te := startEdge(t, source, func(cfg *Config) { cfg.TracerProvider = provider })

	got := te.do(t, "h1", http.MethodGet, "acme.localhost", "/big")
	if got.StatusCode != http.StatusOK || len(got.body) != bodyBytes {
		t.Fatalf("status %d with %d body bytes, want 200 with %d", got.StatusCode, len(got.body), bodyBytes)
	}

	flush := func() []*tracepb.Span {
		if err := provider.ForceFlush(context.Background()); err != nil {
			t.Fatalf("ForceFlush: %v", err)
		}
		return nil
	}
	var request *tracepb.Span
	deadline := time.Now().Add(5 * time.Second)
	for request == nil && time.Now().Before(deadline) {
		flush()
		receiver.mu.Lock()
		for _, span := range receiver.spans {
			if span.Name == observe.RequestSpan {
				request = span
			}
		}
		receiver.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	if request == nil {
		t.Fatal("no request span within 5 s")
	}

	hooks := 0
	for _, span := range receiver.spansOf(request.TraceId) {
		if span.Name == observe.HookSpanPrefix+"body_filter" {
			hooks++
		}
	}
	if hooks != observe.MaxHookSpans {
		t.Errorf("body_filter spans = %d, want the cap %d", hooks, observe.MaxHookSpans)
	}
	if dropped := attr(request, "portcullis.hook_spans_dropped").GetIntValue(); dropped <= 0 {
		t.Errorf("request span hook_spans_dropped = %d, want more than 0 for a %d-byte body", dropped, bodyBytes)
	}
}
