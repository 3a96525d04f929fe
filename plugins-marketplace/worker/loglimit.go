package worker

import (
	"maps"
	"slices"
	"unicode/utf8"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// maxLogLine is the maximum size in bytes of a log line's message, and of
// its fields together, that a worker sends to the edge. Without the cut, a
// line above MaxFrame would not fit in a frame and be lost. The edge cuts
// a message to 1 KiB and the fields to 4 KiB (hostsvc.MaxLogMessage and
// MaxLogFields), so a line cut here shows the same text there. Only the
// edge's truncation marker differs: it gives the size sent as the
// original size.
const maxLogLine = 1 << 20

// boundLogLine returns message and fields cut to maxLogLine each. Fields
// count in name order, each with its name and its size as
// pluginhost.PlainBytes measures it. The string value that crosses the
// limit is cut, and a value of another type that crosses it becomes nil. The fields after it
// keep their names with nil values, within another maxLogLine of names,
// so the edge still counts them as dropped.
func boundLogLine(message string, fields map[string]any) (string, map[string]any) {
	message = cutString(message, maxLogLine)
	if pluginhost.PlainBytes(fields, maxLogLine+1) <= maxLogLine {
		return message, fields
	}

	names := slices.Sorted(maps.Keys(fields))
	bounded := make(map[string]any, len(fields))
	budget, namesLeft := maxLogLine, maxLogLine
	for _, name := range names {
		if budget == 0 || len(name) > budget {
			if len(name) <= namesLeft {
				bounded[name] = nil
				namesLeft -= len(name)
			}
			budget = 0
			continue
		}

		budget -= len(name)
		value := fields[name]
		size := pluginhost.PlainBytes(value, budget+1)
		switch text, isString := value.(string); {
		case size <= budget:
			bounded[name] = value
			budget -= size
		case isString:
			bounded[name] = cutString(text, budget)
			budget = 0
		default:
			bounded[name] = nil
			budget = 0
		}
	}
	return message, bounded
}

// cutString returns text cut to at most limit bytes at a UTF-8 character
// boundary.
func cutString(text string, limit int) string {
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
}
