package observe

import (
	"context"
	"errors"
	"fmt"
	"io"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Options are the observability settings of an edge process, as the
// --otlp-endpoint, --trace-sample-ratio and --access-log flags give them.
type Options struct {
	// OTLPEndpoint is the collector's OTLP/HTTP URL. Empty turns tracing
	// off.
	OTLPEndpoint string
	// SampleRatio is TracingOptions.SampleRatio.
	SampleRatio float64
	// InstanceID is TracingOptions.InstanceID.
	InstanceID string
	// AccessLog is "stdout", "stderr" or a file path. Empty turns the
	// access log off.
	AccessLog string
}

// Check checks the endpoint and the sample ratio without opening anything.
func (o Options) Check() error {
	if o.SampleRatio < 0 || o.SampleRatio > 1 {
		return fmt.Errorf("trace sample ratio %v is invalid: use a number from 0 to 1", o.SampleRatio)
	}
	if o.OTLPEndpoint == "" {
		return nil
	}
	_, err := parseEndpoint(o.OTLPEndpoint)
	return err
}

// Setup is the tracer provider and access log that Open created. The
// zero value has both off.
type Setup struct {
	provider  *sdktrace.TracerProvider
	accessLog io.WriteCloser
}

// Open creates what opts turns on.
func Open(opts Options) (*Setup, error) {
	setup := &Setup{}
	if opts.OTLPEndpoint != "" {
		provider, err := NewTracerProvider(TracingOptions{Endpoint: opts.OTLPEndpoint, SampleRatio: opts.SampleRatio, InstanceID: opts.InstanceID})
		if err != nil {
			return nil, err
		}
		setup.provider = provider
	}
	if opts.AccessLog != "" {
		accessLog, err := OpenAccessLog(opts.AccessLog)
		if err != nil {
			_ = setup.Close(context.Background())
			return nil, err
		}
		setup.accessLog = accessLog
	}
	return setup, nil
}

// TracerProvider returns the value for edge.Config.TracerProvider: nil
// while tracing is off.
func (s *Setup) TracerProvider() trace.TracerProvider {
	if s == nil || s.provider == nil {
		return nil
	}
	return s.provider
}

// AccessLog returns the value for edge.Config.AccessLog: nil while the
// access log is off.
func (s *Setup) AccessLog() io.Writer {
	if s == nil || s.accessLog == nil {
		return nil
	}
	return s.accessLog
}

// Close exports the spans still queued, waiting until ctx ends at most,
// and closes the access log. Call it after the edge has shut down.
func (s *Setup) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}

	var errs []error
	if s.provider != nil {
		errs = append(errs, s.provider.Shutdown(ctx))
	}
	if s.accessLog != nil {
		errs = append(errs, s.accessLog.Close())
	}
	return errors.Join(errs...)
}
