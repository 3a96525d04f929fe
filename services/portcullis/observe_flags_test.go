package main

import (
	"io"
	"strings"
	"testing"
)

func TestServeFlagsObservability(t *testing.T) {
	cfg, edgeCfg, _, err := parseServeFlags([]string{
		"--otlp-endpoint", "http://127.0.0.1:4318", "--trace-sample-ratio", "0.25", "--access-log", "stderr",
	}, io.Discard)
	if err != nil {
		t.Fatalf("parseServeFlags: %v", err)
	}

	for name, opts := range map[string]struct {
		endpoint, accessLog string
		ratio               float64
	}{
		"all-in-one": {cfg.Observe.OTLPEndpoint, cfg.Observe.AccessLog, cfg.Observe.SampleRatio},
		"edge":       {edgeCfg.Observe.OTLPEndpoint, edgeCfg.Observe.AccessLog, edgeCfg.Observe.SampleRatio},
	} {
		if opts.endpoint != "http://127.0.0.1:4318" || opts.accessLog != "stderr" || opts.ratio != 0.25 {
			t.Errorf("%s observe options = %+v, want the flags' values", name, opts)
		}
	}
}

func TestServeFlagsObservabilityOffByDefault(t *testing.T) {
	t.Setenv("PORTCULLIS_OTLP_ENDPOINT", "")
	t.Setenv("PORTCULLIS_ACCESS_LOG", "")
	cfg, _, _, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseServeFlags: %v", err)
	}
	if cfg.Observe.OTLPEndpoint != "" || cfg.Observe.AccessLog != "" {
		t.Errorf("observe options = %+v, want tracing and access log off", cfg.Observe)
	}
	if cfg.Observe.SampleRatio != 1 {
		t.Errorf("sample ratio = %v, want 1", cfg.Observe.SampleRatio)
	}
}

func TestServeFlagsObservabilityEnvironment(t *testing.T) {
	t.Setenv("PORTCULLIS_OTLP_ENDPOINT", "https://collector.internal:4318/v1/traces")
	t.Setenv("PORTCULLIS_TRACE_SAMPLE_RATIO", "0.5")
	cfg, _, _, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseServeFlags: %v", err)
	}
	if cfg.Observe.OTLPEndpoint != "https://collector.internal:4318/v1/traces" || cfg.Observe.SampleRatio != 0.5 {
		t.Errorf("observe options = %+v, want the environment's values", cfg.Observe)
	}
}

func TestServeFlagsObservabilityRejected(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "ratio above one", args: []string{"--otlp-endpoint", "http://127.0.0.1:4318", "--trace-sample-ratio", "1.5"}, want: "from 0 to 1"},
		{name: "ratio not a number", args: []string{"--trace-sample-ratio", "half"}, want: `"half"`},
		{name: "endpoint without scheme", args: []string{"--otlp-endpoint", "127.0.0.1:4318"}, want: "http:// or https://"},
		{name: "endpoint with password", args: []string{"--otlp-endpoint", "http://user:hunter2@127.0.0.1:4318"}, want: "user info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := parseServeFlags(tt.args, io.Discard)
			if err == nil {
				t.Fatalf("parseServeFlags(%q) succeeded, want an error", tt.args)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}
