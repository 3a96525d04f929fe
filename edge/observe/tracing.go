// Package observe contains the edge's request tracing (OpenTelemetry spans
// exported over OTLP/HTTP) and its JSON access log.
package observe

import (
	"context"
	"fmt"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Tracing defaults.
const (
	// DefaultServiceName is the service.name of the edge's spans.
	DefaultServiceName = "portcullis-edge"
	// DefaultTracesPath is the OTLP/HTTP path that an endpoint URL without
	// a path gets.
	DefaultTracesPath = "/v1/traces"
	// MaxQueuedSpans is the number of ended spans that wait for export.
	// Spans that end while the queue is full are dropped.
	MaxQueuedSpans = 2048
	// MaxExportBatch is the number of spans in one export request.
	MaxExportBatch = 512
)

// TracingOptions configure NewTracerProvider.
type TracingOptions struct {
	// Endpoint is the collector's OTLP/HTTP URL, such as
	// "http://127.0.0.1:4318". A URL without a path gets
	// DefaultTracesPath. "https" URLs use TLS. It is required.
	Endpoint string
	// SampleRatio is the share of traces started at the edge that are
	// sampled, from 0 to 1. A trace that the client started keeps the
	// client's sampled flag.
	SampleRatio float64
	// ServiceName is the service.name resource attribute. Empty means
	// DefaultServiceName.
	ServiceName string
	// InstanceID is the service.instance.id resource attribute, such as
	// the edge's node id. Empty leaves it out.
	InstanceID string
}

// NewTracerProvider returns a tracer provider that samples with
// opts.SampleRatio and exports spans in batches over OTLP/HTTP with
// protobuf encoding. The caller must call its Shutdown, which exports the
// spans still queued.
//
// NOTE: the exporter also reads the OTEL_EXPORTER_OTLP_* environment
// variables (headers, timeout, compression, certificates); the endpoint
// given here takes precedence over theirs.
func NewTracerProvider(opts TracingOptions) (*sdktrace.TracerProvider, error) {
	endpoint, err := parseEndpoint(opts.Endpoint)
	if err != nil {
		return nil, err
	}
	if opts.SampleRatio < 0 || opts.SampleRatio > 1 {
		return nil, fmt.Errorf("trace sample ratio %v is invalid: use a number from 0 to 1", opts.SampleRatio)
	}
	if opts.ServiceName == "" {
		opts.ServiceName = DefaultServiceName
	}

	exportOptions := []otlptracehttp.Option{otlptracehttp.WithEndpoint(endpoint.Host), otlptracehttp.WithURLPath(endpoint.Path)}
	if endpoint.Scheme == "http" {
		exportOptions = append(exportOptions, otlptracehttp.WithInsecure())
	}
	exporter, err := otlptracehttp.New(context.Background(), exportOptions...)
	if err != nil {
		return nil, fmt.Errorf("create OTLP exporter for %q: %w", opts.Endpoint, err)
	}

	attrs := []attribute.KeyValue{attribute.String("service.name", opts.ServiceName)}
	if opts.InstanceID != "" {
		attrs = append(attrs, attribute.String("service.instance.id", opts.InstanceID))
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(opts.SampleRatio))),
		sdktrace.WithBatcher(exporter, sdktrace.WithMaxQueueSize(MaxQueuedSpans), sdktrace.WithMaxExportBatchSize(MaxExportBatch)),
	), nil
}

// parseEndpoint checks an OTLP/HTTP endpoint URL and fills in its path.
func parseEndpoint(raw string) (*url.URL, error) {
	endpoint, err := url.Parse(raw)
	if err != nil {
		// The parse error repeats the value, which may hold a password.
		return nil, fmt.Errorf("OTLP endpoint is not a valid URL: use an http:// or https:// URL such as http://127.0.0.1:4318")
	}
	if (endpoint.Scheme != "http" && endpoint.Scheme != "https") || endpoint.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q is invalid: use an http:// or https:// URL such as http://127.0.0.1:4318", redact(endpoint))
	}
	if endpoint.User != nil || endpoint.RawQuery != "" {
		return nil, fmt.Errorf("OTLP endpoint %q is invalid: remove the user info and query; set headers with OTEL_EXPORTER_OTLP_HEADERS", redact(endpoint))
	}
	if endpoint.Path == "" || endpoint.Path == "/" {
		endpoint.Path = DefaultTracesPath
	}
	return endpoint, nil
}

// redact returns the URL without user info and query, which can hold
// credentials.
func redact(endpoint *url.URL) string {
	clean := *endpoint
	clean.User = nil
	clean.RawQuery = ""
	return clean.String()
}
