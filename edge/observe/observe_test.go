package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw      string
		wantPath string
		wantErr  bool
	}{
		{raw: "http://127.0.0.1:4318", wantPath: DefaultTracesPath},
		{raw: "http://127.0.0.1:4318/", wantPath: DefaultTracesPath},
		{raw: "https://collector.internal/otlp/v1/traces", wantPath: "/otlp/v1/traces"},
		{raw: "127.0.0.1:4318", wantErr: true},
		{raw: "grpc://127.0.0.1:4317", wantErr: true},
		{raw: "http://", wantErr: true},
		{raw: "http://user:secret@127.0.0.1:4318", wantErr: true},
		{raw: "http://127.0.0.1:4318/?token=secret", wantErr: true},
	}
	for _, tt := range tests {
		endpoint, err := parseEndpoint(tt.raw)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseEndpoint(%q) succeeded, want an error", tt.raw)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("parseEndpoint(%q) error %q shows the secret", tt.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseEndpoint(%q): %v", tt.raw, err)
			continue
		}
		if endpoint.Path != tt.wantPath {
			t.Errorf("parseEndpoint(%q) path = %q, want %q", tt.raw, endpoint.Path, tt.wantPath)
		}
	}
}

func TestOptionsCheckRatio(t *testing.T) {
	for _, ratio := range []float64{-0.1, 1.01} {
		if err := (Options{SampleRatio: ratio}).Check(); err == nil {
			t.Errorf("Check with ratio %v succeeded, want an error", ratio)
		}
	}
	if err := (Options{SampleRatio: 0}).Check(); err != nil {
		t.Errorf("Check with ratio 0: %v", err)
	}
}

func TestOpenOffReturnsNil(t *testing.T) {
	setup, err := Open(Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if setup.TracerProvider() != nil {
		t.Error("TracerProvider is not nil with tracing off")
	}
	if setup.AccessLog() != nil {
		t.Error("AccessLog is not nil with the access log off")
	}
	if err := setup.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestOpenAccessLogFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte("earlier line\n"), 0o600); err != nil {
		t.Fatalf("write: %v", err)
	}

	setup, err := Open(Options{AccessLog: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	NewAccessLog(setup.AccessLog()).Write(&AccessEntry{RequestID: "r1", Status: 200, Duration: 1500 * time.Microsecond})
	if err := setup.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "earlier line" {
		t.Fatalf("file = %q, want the earlier line and one access line", data)
	}
	var record map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &record); err != nil {
		t.Fatalf("decode %q: %v", lines[1], err)
	}
	if record["msg"] != "access" || record["request_id"] != "r1" || record["duration_ms"] != 1.5 {
		t.Errorf("record = %v, want msg access, request_id r1, duration_ms 1.5", record)
	}
}

func TestOpenAccessLogMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "access.log")
	if _, err := Open(Options{AccessLog: path}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open(%q) error = %v, want one that names the path", path, err)
	}
}

func TestAccessLogTruncatesPath(t *testing.T) {
	var out bytes.Buffer
	NewAccessLog(&out).Write(&AccessEntry{Path: "/" + strings.Repeat("a", 3*MaxLoggedPath)})

	var record map[string]any
	if err := json.Unmarshal(out.Bytes(), &record); err != nil {
		t.Fatalf("decode %q: %v", out.Bytes(), err)
	}
	path, _ := record["path"].(string)
	if len(path) != MaxLoggedPath || !strings.HasSuffix(path, "...") {
		t.Errorf("path has %d bytes, want %d ending in ...", len(path), MaxLoggedPath)
	}
}

func TestNilAccessLogAndTracer(t *testing.T) {
	var accessLog *AccessLog
	accessLog.Write(&AccessEntry{})
	if NewAccessLog(nil) != nil {
		t.Error("NewAccessLog(nil) is not nil")
	}
	if NewTracer(nil) != nil {
		t.Error("NewTracer(nil) is not nil")
	}
}
