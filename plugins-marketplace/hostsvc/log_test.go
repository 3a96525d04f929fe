package hostsvc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// logLine sends one log line through a fresh tenant's host and returns the
// JSON record and the size of the output.
func logLine(t *testing.T, message string, fields map[string]any) (map[string]any, int) {
	t.Helper()
	var output bytes.Buffer
	services := New(slog.New(slog.NewJSONHandler(&output, nil)), nil)
	services.Tenant("acme").Request(nil).Log(pluginhost.Caller{Plugin: "p"}, slog.LevelInfo, message, fields)

	var record map[string]any
	if err := json.Unmarshal(output.Bytes(), &record); err != nil {
		t.Fatalf("decode log line %q: %v", output.String(), err)
	}
	return record, output.Len()
}

func TestLogMessageTruncated(t *testing.T) {
	record, size := logLine(t, strings.Repeat("m", 2<<20), nil)

	message, _ := record["msg"].(string)
	want := "plugin: " + strings.Repeat("m", MaxLogMessage) + "...[truncated from 2097152 bytes]"
	if message != want {
		t.Errorf("msg is %d bytes ending %q, want %d bytes ending %q", len(message), tail(message), len(want), tail(want))
	}
	if size > 2*MaxLogMessage {
		t.Errorf("log line is %d bytes, want at most %d", size, 2*MaxLogMessage)
	}
}

func TestLogMessageTruncatedAtCharacter(t *testing.T) {
	// "é" is two bytes, so byte MaxLogMessage falls inside a character.
	record, _ := logLine(t, "x"+strings.Repeat("é", MaxLogMessage), nil)

	message, _ := record["msg"].(string)
	prefix, _, found := strings.Cut(strings.TrimPrefix(message, "plugin: "), "...[truncated")
	if !found {
		t.Fatalf("msg %q has no truncation marker", tail(message))
	}
	if want := "x" + strings.Repeat("é", MaxLogMessage/2-1); prefix != want {
		t.Errorf("kept %d bytes, want %d bytes of whole characters", len(prefix), len(want))
	}
}

func TestLogShortLineUnchanged(t *testing.T) {
	record, _ := logLine(t, "hooked", map[string]any{"count": int64(3), "user": "ann"})

	if record["msg"] != "plugin: hooked" {
		t.Errorf("msg = %q, want %q", record["msg"], "plugin: hooked")
	}
	if record["field.count"] != float64(3) || record["field.user"] != "ann" {
		t.Errorf("fields = %v, %v, want 3 and ann", record["field.count"], record["field.user"])
	}
	if _, found := record["fields_dropped"]; found {
		t.Errorf("fields_dropped = %v, want it absent", record["fields_dropped"])
	}
}

func TestLogLargeFieldTruncated(t *testing.T) {
	record, size := logLine(t, "big", map[string]any{
		"a":     "small",
		"blob":  map[string]any{"data": strings.Repeat("d", 2<<20)},
		"later": "left out",
	})

	if record["field.a"] != "small" {
		t.Errorf("field.a = %v, want small", record["field.a"])
	}
	blob, _ := record["field.blob"].(string)
	if !strings.HasPrefix(blob, `{"data":"ddd`) || !strings.Contains(blob, "...[truncated from ") {
		t.Errorf("field.blob = %q...%q, want the start of its JSON and a marker", blob[:min(len(blob), 20)], tail(blob))
	}
	if _, found := record["field.later"]; found {
		t.Error("field.later is logged, want it left out after the limit")
	}
	if record["fields_dropped"] != float64(1) {
		t.Errorf("fields_dropped = %v, want 1", record["fields_dropped"])
	}
	if size > MaxLogFields+1024 {
		t.Errorf("log line is %d bytes, want at most %d", size, MaxLogFields+1024)
	}
}

func TestLogManyFieldsBounded(t *testing.T) {
	fields := map[string]any{}
	for i := range 10000 {
		fields[fmt.Sprintf("field%05d", i)] = i
	}
	record, size := logLine(t, "many", fields)

	logged := 0
	for key := range record {
		if strings.HasPrefix(key, "field.") {
			logged++
		}
	}
	dropped, _ := record["fields_dropped"].(float64)
	if logged == 0 || logged+int(dropped) != 10000 {
		t.Errorf("logged %d fields and dropped %v, want both to add up to 10000", logged, dropped)
	}
	if size > MaxLogFields*2 {
		t.Errorf("log line is %d bytes, want at most %d", size, MaxLogFields*2)
	}
}

func TestLogRateLimitKept(t *testing.T) {
	var output bytes.Buffer
	host := New(slog.New(slog.NewJSONHandler(&output, nil)), nil).Tenant("acme").Request(nil)
	caller := pluginhost.Caller{Plugin: "p"}

	for range 5 {
		host.Log(caller, slog.LevelInfo, strings.Repeat("m", 4096), nil)
	}
	time.Sleep(logInterval + 20*time.Millisecond)
	host.Log(caller, slog.LevelInfo, "after", nil)

	lines := strings.Split(strings.TrimSpace(output.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want 2: the first and one after the interval", len(lines))
	}
	if !strings.Contains(lines[1], `"dropped":4`) {
		t.Errorf("second line = %s, want dropped 4", lines[1])
	}
}

func tail(text string) string {
	return text[max(len(text)-40, 0):]
}
