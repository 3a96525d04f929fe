package sync

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"
)

// lockedBuffer is a log sink that the agent's goroutines may share.
type lockedBuffer struct {
	mu  gosync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestHeartbeatsCarryOneInstancePerAgent(t *testing.T) {
	portal := startFakePortal(t)
	first, stop := runAgent(t, portal, nil, ModePoll, &invalidations{})
	waitFor(t, "three heartbeats", 2*time.Second, func() bool { return len(portal.reportsSnapshot()) >= 3 })
	stop()

	instance := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for i, report := range portal.reportsSnapshot() {
		if report.Instance != first.instance || !instance.MatchString(report.Instance) {
			t.Errorf("heartbeat %d instance = %q, want the agent's %q (16 hex digits)", i, report.Instance, first.instance)
		}
	}

	second, _ := runAgent(t, portal, nil, ModePoll, &invalidations{})
	if second.instance == first.instance {
		t.Errorf("two agents share the instance %q, want one per process", first.instance)
	}
}

func TestNodeIDConflictLogsOncePerMinute(t *testing.T) {
	portal := startFakePortal(t)
	portal.mu.Lock()
	portal.conflict = true
	portal.mu.Unlock()

	var logs lockedBuffer
	client := portal.client(t)
	agent, err := NewAgent(AgentOptions{
		Client:     client,
		Source:     NewSource(SourceOptions{Client: client}),
		Invalidate: func(string, int64) {},
		NodeID:     "twin",
		Region:     "test",
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("NewAgent() error = %v", err)
	}

	for range 5 {
		if _, err := agent.heartbeat(context.Background()); err != nil {
			t.Fatalf("heartbeat() error = %v", err)
		}
	}
	if got := strings.Count(logs.String(), "give each edge its own --node-id"); got != 1 {
		t.Errorf("conflict logged %d times in 5 heartbeats, want 1; log:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "edge=twin") {
		t.Errorf("conflict log lacks level ERROR or the node id:\n%s", logs.String())
	}
}

func TestConflictLogIsDueAgainAfterAMinute(t *testing.T) {
	var log conflictLog
	start := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Second, false}, {conflictLogEvery - time.Second, false}, {conflictLogEvery, true}}
	for _, step := range steps {
		if got := log.due(start.Add(step.at)); got != step.want {
			t.Errorf("due(+%v) = %v, want %v", step.at, got, step.want)
		}
	}
}
