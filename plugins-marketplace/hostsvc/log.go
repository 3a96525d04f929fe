package hostsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"
	"unicode/utf8"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// Bounds of one plugin log line. The edge cuts what is longer, so a plugin
// cannot grow the edge's log by more than these sizes per line.
const (
	// MaxLogMessage is the maximum size of a log message in bytes.
	MaxLogMessage = 1 << 10
	// MaxLogFields is the maximum size in bytes of a log line's fields:
	// their names and JSON-encoded values together.
	MaxLogFields = 4 << 10
	// logInterval is the minimum gap between two log lines of one plugin
	// of one tenant. Lines in between are dropped and counted.
	logInterval = 100 * time.Millisecond
)

type logState struct {
	last    time.Time
	dropped int
}

func (h *requestHost) Log(caller pluginhost.Caller, level slog.Level, message string, fields map[string]any) {
	t := h.tenant
	t.mu.Lock()
	state, ok := t.logged[caller.Plugin]
	if !ok {
		state = &logState{}
		t.logged[caller.Plugin] = state
	}
	now := time.Now()
	if now.Sub(state.last) < logInterval {
		state.dropped++
		t.mu.Unlock()
		return
	}
	dropped := state.dropped
	state.last, state.dropped = now, 0
	t.mu.Unlock()

	attrs := []any{"tenant", t.slug, "plugin", caller.Plugin, "version", caller.Version, "binding", caller.Binding,
		"request_id", caller.RequestID, "dropped", dropped}
	attrs = append(attrs, fieldAttrs(fields)...)
	t.services.log.Log(context.Background(), level, "plugin: "+truncate(message, MaxLogMessage), attrs...)
}

// fieldAttrs returns the attributes "field.NAME" of a log line's fields in
// name order, within MaxLogFields. The field that crosses the limit becomes
// its JSON text cut with a marker, and the attribute fields_dropped counts
// the fields after it, which are left out.
func fieldAttrs(fields map[string]any) []any {
	names := sortedKeys(fields)
	attrs := make([]any, 0, len(names))
	budget := MaxLogFields

	for i, name := range names {
		value := fields[name]
		encoded := encodeField(value)
		if size := len(name) + len(encoded); size <= budget {
			attrs = append(attrs, slog.Any("field."+name, value))
			budget -= size
			continue
		}

		left := len(names) - i
		if len(name) < budget {
			attrs = append(attrs, slog.String("field."+name, truncate(encoded, budget-len(name))))
			left--
		}
		if left > 0 {
			attrs = append(attrs, slog.Int("fields_dropped", left))
		}
		break
	}
	return attrs
}

// encodeField returns the JSON text of a field's value, by which
// fieldAttrs measures the field.
func encodeField(value any) string {
	encoded, err := json.Marshal(value)
	if err != nil {
		// Values from scripts are JSON-like, but a float such as NaN has no
		// JSON form.
		return fmt.Sprint(value)
	}
	return string(encoded)
}

// truncate cuts text to at most limit bytes, at a UTF-8 character
// boundary, and appends a marker with the original size.
func truncate(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...[truncated from %d bytes]", text[:cut], len(text))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
