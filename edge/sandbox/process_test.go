package sandbox

import (
	"strings"
	"testing"
)

func TestStderrLogKeepsCrashLine(t *testing.T) {
	var log stderrLog
	_, _ = log.Write([]byte(strings.Repeat("race report\n", 200)))
	_, _ = log.Write([]byte("fatal error: concurrent map writes\n\ngoroutine 7 [running]:\n"))
	_, _ = log.Write([]byte(strings.Repeat("trace line\n", 200)))

	got := log.String()
	if !strings.HasPrefix(got, "fatal error: concurrent map writes | race report") {
		t.Errorf("log starts %q, want the crash line, then the head", got[:80])
	}
	if !strings.Contains(got, " ... ") || !strings.HasSuffix(got, "trace line") {
		t.Errorf("log does not mark the dropped middle or keep the tail: %q", got[len(got)-80:])
	}
	if len(got) > 3*stderrKeep {
		t.Errorf("log is %d bytes, want at most about %d", len(got), 2*stderrKeep)
	}
}

func TestStderrLogCrashLineAcrossWrites(t *testing.T) {
	var log stderrLog
	_, _ = log.Write([]byte("runtime: goroutine stack exceeds the limit\nfatal error: "))
	_, _ = log.Write([]byte("stack overflow\n\nruntime stack:\n"))
	_, _ = log.Write([]byte("fatal error: a later line\n"))

	if got, want := log.crashLine(), "fatal error: stack overflow"; got != want {
		t.Errorf("crash line = %q, want %q", got, want)
	}
}
