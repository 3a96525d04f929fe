package allinone

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/observe"
)

// TestObservabilityFlagsReachEdge starts the all-in-one server with an OTLP
// endpoint and an access log file, and checks that a request through the
// edge writes an access line and that spans reach the collector.
func TestObservabilityFlagsReachEdge(t *testing.T) {
	// Export every 100 ms instead of every 5 s, so the test stays short.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
	var exports atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == observe.DefaultTracesPath && r.Header.Get("Content-Type") == "application/x-protobuf" {
			exports.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(collector.Close)

	dataDir := t.TempDir()
	accessLogPath := filepath.Join(dataDir, "access.log")
	cfg := testConfig(dataDir)
	cfg.Observe = observe.Options{OTLPEndpoint: collector.URL, SampleRatio: 1, AccessLog: accessLogPath}
	h := startHarnessWith(t, cfg)
	h.addTenant("acme", upstream(t, "acme"), "/")

	port := h.server.Edge().Addrs().HTTP[strings.LastIndex(h.server.Edge().Addrs().HTTP, ":"):]
	response, body, err := get(context.Background(), h.h1, "http://acme.localhost"+port+"/orders?api_key=query-secret", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %s)", response.StatusCode, body)
	}

	line := waitForFileLine(t, accessLogPath)
	var record map[string]any
	if err := json.Unmarshal([]byte(line), &record); err != nil {
		t.Fatalf("access line %q is not JSON: %v", line, err)
	}
	if record["tenant"] != "acme" || record["route"] != "main" || record["path"] != "/orders" || record["status"] != float64(200) {
		t.Errorf("access line = %s, want tenant acme, route main, path /orders, status 200", line)
	}
	if traceID, _ := record["trace_id"].(string); len(traceID) != 32 {
		t.Errorf("access line trace_id = %v, want 32 hex digits while tracing is on", record["trace_id"])
	}
	if strings.Contains(line, "query-secret") {
		t.Errorf("access line carries the query string: %s", line)
	}

	deadline := time.Now().Add(5 * time.Second)
	for exports.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if exports.Load() == 0 {
		t.Error("no OTLP export request reached the collector within 5 s")
	}
}

// waitForFileLine returns the first line of the file at path once it has
// one, failing after 5 s.
func waitForFileLine(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(data), "\n") {
			return strings.SplitN(string(data), "\n", 2)[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("access log %s has no line after 5 s (read error %v)", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
