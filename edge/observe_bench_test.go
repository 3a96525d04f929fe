package edge

import (
	"io"
	"strconv"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkEdgeObserved is BenchmarkEdgeChain with tracing and the access
// log on: every trace is sampled and recorded, the spans go to no exporter,
// and the access log lines to io.Discard. Compared with BenchmarkEdgeChain
// it gives the cost of turning both on.
func BenchmarkEdgeObserved(b *testing.B) {
	upstream := fixedUpstream(b)
	source := newMemorySource()
	for _, plugins := range benchChainLengths {
		source.put(chainBundle(b, "chain"+strconv.Itoa(plugins), upstream.URL, plugins))
	}

	provider := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	e, err := New(Config{Source: source, TracerProvider: provider, AccessLog: io.Discard})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	b.Cleanup(e.transport.CloseIdleConnections)
	handler := e.Handler()

	for _, plugins := range benchChainLengths {
		host := "chain" + strconv.Itoa(plugins) + ".localhost"
		b.Run("plugins="+strconv.Itoa(plugins), func(b *testing.B) {
			checkChainResponse(b, handler, host, plugins)
			b.ReportAllocs()
			for b.Loop() {
				serveOnce(b, handler, host)
			}
		})
	}
}
