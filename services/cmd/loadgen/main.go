// Command loadgen drives HTTP load at fixed concurrency for a bounded time
// against a server on loopback, over HTTP/1.1, HTTP/2 over TLS or HTTP/3,
// and prints requests, errors, throughput and p50/p99 latency. It rejects
// any target that is not 127.0.0.0/8, [::1], localhost or *.localhost.
//
// Usage:
//
//	loadgen -url http://acme.localhost:8080/ -proto h1 -c 16 -d 10s
package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"portcullis.dev/services/internal/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var opts loadgen.Options
	var caFile string
	flag.StringVar(&opts.URL, "url", "", "target URL on loopback, such as http://acme.localhost:8080/ (required)")
	flag.StringVar(&opts.Protocol, "proto", loadgen.HTTP1, "protocol: h1, h2 (HTTP/2 over TLS) or h3")
	flag.IntVar(&opts.Concurrency, "c", 16, "number of concurrent workers, each with one request in flight")
	flag.DurationVar(&opts.Duration, "d", 10*time.Second, "run duration")
	flag.Int64Var(&opts.MaxRequests, "n", 10_000_000, "maximum number of requests; 0 means no bound other than -d")
	flag.StringVar(&caFile, "cacert", "", "PEM file of the CA that signed the server certificate; empty skips verification (loopback only)")
	flag.Parse()

	if opts.URL == "" {
		return fmt.Errorf("missing -url: name a loopback target such as http://127.0.0.1:8080/")
	}
	if opts.Duration > time.Hour {
		return fmt.Errorf("invalid -d %v: use at most 1h", opts.Duration)
	}
	if caFile != "" {
		roots, err := loadRoots(caFile)
		if err != nil {
			return err
		}
		opts.RootCAs = roots
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	result, err := loadgen.Run(ctx, opts)
	if err != nil {
		return err
	}

	fmt.Printf("proto=%s concurrency=%d %s\n", opts.Protocol, opts.Concurrency, result)
	for _, message := range result.ErrorSamples {
		fmt.Println("error:", message)
	}
	if result.Errors > 0 {
		return fmt.Errorf("%d of %d requests failed", result.Errors, result.Requests)
	}
	return nil
}

func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read -cacert: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-cacert %q contains no PEM certificate", file)
	}
	return roots, nil
}
