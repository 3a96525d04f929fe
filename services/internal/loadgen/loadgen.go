// Package loadgen drives HTTP load at fixed concurrency against a server on
// the loopback interface, over HTTP/1.1, HTTP/2 over TLS or HTTP/3, and
// reports request counts, errors, throughput and latency percentiles.
package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Protocols that Options.Protocol accepts.
const (
	HTTP1 = "h1"
	HTTP2 = "h2"
	HTTP3 = "h3"
)

// maxSamplesPerWorker caps the latencies one worker keeps, so a long run
// holds a bounded amount of memory. Later requests still count.
const maxSamplesPerWorker = 1 << 20

// maxErrorSamples is how many distinct error messages a Result keeps.
const maxErrorSamples = 5

// maxErrorBody is how many bytes of a failed response's body an error
// message quotes.
const maxErrorBody = 300

// limitedWriter keeps the first limit bytes written to it and discards the
// rest, reporting every write as complete.
type limitedWriter struct {
	buffer *bytes.Buffer
	limit  int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.limit - w.buffer.Len(); room > 0 {
		w.buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Options describe one load run.
type Options struct {
	// URL is the target. Its host must be a loopback IP address,
	// "localhost" or a name under ".localhost"; names are dialed at
	// 127.0.0.1 on the URL's port.
	URL string
	// Protocol is HTTP1, HTTP2 (over TLS) or HTTP3.
	Protocol string
	// Concurrency is the number of workers, each with one request in
	// flight at a time.
	Concurrency int
	// Duration bounds the run.
	Duration time.Duration
	// MaxRequests bounds the run by count across all workers. Zero means
	// no bound other than Duration.
	MaxRequests int64
	// RootCAs verifies the server's certificate for HTTP2 and HTTP3. Nil
	// skips verification, which is acceptable only because the target is
	// always on loopback.
	RootCAs *x509.CertPool
	// Check, when set, inspects each response with status 200 and returns
	// an error to count it as failed. The body is already read.
	Check func(*http.Response) error
}

// Result is the outcome of one run.
type Result struct {
	Requests int64
	Errors   int64
	Elapsed  time.Duration
	P50, P99 time.Duration
	// ErrorSamples are up to maxErrorSamples distinct error messages.
	ErrorSamples []string
}

// Throughput returns requests per second over the run.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// String formats the result as one line.
func (r Result) String() string {
	return fmt.Sprintf("requests=%d errors=%d elapsed=%.2fs throughput=%.0f/s p50=%v p99=%v",
		r.Requests, r.Errors, r.Elapsed.Seconds(), r.Throughput(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond))
}

// Run drives load until Duration passes, MaxRequests were sent or ctx ends.
func Run(ctx context.Context, opts Options) (Result, error) {
	if err := opts.validate(); err != nil {
		return Result{}, err
	}
	target, err := checkTarget(opts.URL)
	if err != nil {
		return Result{}, err
	}
	client, closeClient, err := newClient(opts.Protocol, target.dialAddr, opts.RootCAs)
	if err != nil {
		return Result{}, err
	}
	defer closeClient()

	ctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()

	run := &runState{opts: opts, client: client}
	start := time.Now()
	var wg sync.WaitGroup
	samples := make([][]time.Duration, opts.Concurrency)
	for worker := range opts.Concurrency {
		wg.Go(func() { samples[worker] = run.work(ctx) })
	}
	wg.Wait()

	return run.result(time.Since(start), samples), nil
}

func (o Options) validate() error {
	if o.Protocol != HTTP1 && o.Protocol != HTTP2 && o.Protocol != HTTP3 {
		return fmt.Errorf("invalid protocol %q: use h1, h2 or h3", o.Protocol)
	}
	if o.Concurrency < 1 {
		return fmt.Errorf("invalid concurrency %d: use 1 or more", o.Concurrency)
	}
	if o.Duration <= 0 {
		return fmt.Errorf("invalid duration %v: use a positive duration", o.Duration)
	}
	if o.MaxRequests < 0 {
		return fmt.Errorf("invalid request bound %d: use 0 (none) or more", o.MaxRequests)
	}
	return nil
}

// runState is shared by the workers of one run.
type runState struct {
	opts     Options
	client   *http.Client
	sent     atomic.Int64
	requests atomic.Int64
	errors   atomic.Int64

	mu           sync.Mutex
	errorSamples []string
}

// work sends requests one after another until the run ends, and returns
// the latencies of the successful ones.
func (s *runState) work(ctx context.Context) []time.Duration {
	var latencies []time.Duration
	for ctx.Err() == nil {
		if s.opts.MaxRequests > 0 && s.sent.Add(1) > s.opts.MaxRequests {
			return latencies
		}

		start := time.Now()
		err := s.send(ctx)
		elapsed := time.Since(start)
		if ctx.Err() != nil && err != nil {
			// A request cut by the end of the run is not an error.
			return latencies
		}

		s.requests.Add(1)
		if err != nil {
			s.errors.Add(1)
			s.recordError(err)
			continue
		}
		if len(latencies) < maxSamplesPerWorker {
			latencies = append(latencies, elapsed)
		}
	}
	return latencies
}

func (s *runState) send(ctx context.Context) error {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opts.URL, nil)
	if err != nil {
		return fmt.Errorf("build request for %q: %w", s.opts.URL, err)
	}
	response, err := s.client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()

	var head bytes.Buffer
	if _, err := io.Copy(io.Discard, io.TeeReader(response.Body, &limitedWriter{buffer: &head, limit: maxErrorBody})); err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d, want 200, body %q", response.StatusCode, head.String())
	}
	if s.opts.Check != nil {
		return s.opts.Check(response)
	}
	return nil
}

func (s *runState) recordError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	message := err.Error()
	if len(s.errorSamples) < maxErrorSamples && !slices.Contains(s.errorSamples, message) {
		s.errorSamples = append(s.errorSamples, message)
	}
}

func (s *runState) result(elapsed time.Duration, samples [][]time.Duration) Result {
	all := slices.Concat(samples...)
	slices.Sort(all)

	s.mu.Lock()
	defer s.mu.Unlock()
	return Result{
		Requests:     s.requests.Load(),
		Errors:       s.errors.Load(),
		Elapsed:      elapsed,
		P50:          percentile(all, 0.50),
		P99:          percentile(all, 0.99),
		ErrorSamples: slices.Clone(s.errorSamples),
	}
}

// percentile returns the nearest-rank percentile p (0 to 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// tlsConfig returns the client TLS config for HTTP2 and HTTP3.
func tlsConfig(roots *x509.CertPool, protocols ...string) *tls.Config {
	return &tls.Config{
		RootCAs:            roots,
		InsecureSkipVerify: roots == nil, // #nosec G402 -- the target is checked to be loopback.
		NextProtos:         protocols,
		MinVersion:         tls.VersionTLS12,
	}
}

// errNotLoopback marks a target outside the loopback interface.
var errNotLoopback = errors.New("target is not on loopback")
