package sync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"portcullis.dev/edge/lkg"
)

// invalidations records Invalidate calls as "tenant@revision".
type invalidations struct {
	mu    gosync.Mutex
	calls []string
}

func (i *invalidations) record(tenant string, revision int64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls = append(i.calls, fmt.Sprintf("%s@%d", tenant, revision))
}

func (i *invalidations) snapshot() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]string(nil), i.calls...)
}

// runAgent starts an agent against the portal and returns a function that
// stops it and waits for Run to return.
func runAgent(t *testing.T, portal *fakePortal, disk *lkg.Dir, mode string, calls *invalidations) (*Agent, func()) {
	t.Helper()
	client := portal.client(t)
	agent, err := NewAgent(AgentOptions{
		Client:     client,
		Source:     NewSource(SourceOptions{Client: client}),
		Disk:       disk,
		Invalidate: calls.record,
		NodeID:     "test-1",
		Region:     "test",
		Mode:       mode,
		Heartbeat:  50 * time.Millisecond,
		PollWait:   100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("NewAgent() error = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		agent.Run(ctx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return agent, stop
}

func openDisk(t *testing.T, position int64) *lkg.Dir {
	t.Helper()
	disk, err := lkg.Open(t.TempDir())
	if err != nil {
		t.Fatalf("lkg.Open() error = %v", err)
	}
	if position > 0 {
		if err := disk.SavePosition(position); err != nil {
			t.Fatalf("SavePosition() error = %v", err)
		}
	}
	return disk
}

// TestAgentAppliesEachEventOnce starts from a saved position, replays the
// whole feed on a reconnect and checks that every event after the position
// is applied exactly once, in order, in both feed modes.
func TestAgentAppliesEachEventOnce(t *testing.T) {
	for _, mode := range []string{ModeStream, ModePoll} {
		t.Run(mode, func(t *testing.T) {
			portal := startFakePortal(t)
			// Positions have holes, as rolled-back inserts leave them.
			for i, position := range []int64{2, 3, 5, 8, 9} {
				portal.addEvent(position, "acme", int64(i+1))
			}
			disk := openDisk(t, 3)
			calls := &invalidations{}

			agent, stop := runAgent(t, portal, disk, mode, calls)
			waitFor(t, "position 9", 2*time.Second, func() bool { return agent.Position() == 9 })

			portal.set(func(p *fakePortal) { p.replayNext = true })
			portal.addEvent(12, "acme", 6)
			waitFor(t, "position 12", 2*time.Second, func() bool { return agent.Position() == 12 })
			stop()

			want := []string{"acme@3", "acme@4", "acme@5", "acme@6"}
			if got := calls.snapshot(); !slices.Equal(got, want) {
				t.Errorf("invalidations = %v, want %v", got, want)
			}
			if afters := portal.afters(); afters[0] != 3 {
				t.Errorf("first request after = %d, want the saved position 3", afters[0])
			}
			saved, found, err := disk.LoadPosition()
			if err != nil || !found || saved != 12 {
				t.Errorf("saved position after Run = %d, %v, %v; want 12, true, nil", saved, found, err)
			}
		})
	}
}

// TestAgentSavesRegistrationHead checks that an edge without a saved
// position writes the head it registered at before its first save tick, so
// that a restart resumes there and applies the changes made meanwhile.
func TestAgentSavesRegistrationHead(t *testing.T) {
	portal := startFakePortal(t)
	portal.addEvent(4, "acme", 1)
	disk := openDisk(t, 0)
	agent, _ := runAgent(t, portal, disk, ModeStream, &invalidations{})
	waitFor(t, "registration", 2*time.Second, func() bool { return agent.Position() == 4 })

	saved, found, err := disk.LoadPosition()
	if err != nil || !found || saved != 4 {
		t.Fatalf("saved position right after registering = %d, %v, %v; want 4, true, nil", saved, found, err)
	}
}

// TestAgentResumesFromPosition checks that each reconnect requests the
// events after the last position applied, across a portal outage.
func TestAgentResumesFromPosition(t *testing.T) {
	portal := startFakePortal(t)
	portal.addEvent(1, "acme", 1)
	calls := &invalidations{}
	agent, stop := runAgent(t, portal, openDisk(t, 0), ModeStream, calls)
	waitFor(t, "connection", 2*time.Second, agent.Connected)

	portal.set(func(p *fakePortal) { p.down = true })
	waitFor(t, "disconnection", 2*time.Second, func() bool { return !agent.Connected() })
	portal.addEvent(2, "acme", 2)
	portal.addEvent(3, "beta", 1)
	portal.set(func(p *fakePortal) {
		p.down = false
		p.streamAfters = nil
	})
	waitFor(t, "position 3", 3*time.Second, func() bool { return agent.Position() == 3 })
	stop()

	if afters := portal.afters(); len(afters) == 0 || afters[0] != 1 {
		t.Errorf("request positions after the outage = %v, want the first to be 1", afters)
	}
	want := []string{"acme@2", "beta@1"}
	if got := calls.snapshot(); !slices.Equal(got, want) {
		t.Errorf("invalidations = %v, want %v (the event at the registration head is not applied)", got, want)
	}
}

func TestAgentFallsBackToPolls(t *testing.T) {
	portal := startFakePortal(t)
	portal.set(func(p *fakePortal) { p.noStream = true })
	portal.addEvent(1, "acme", 1)
	calls := &invalidations{}

	agent, stop := runAgent(t, portal, openDisk(t, 0), ModeStream, calls)
	waitFor(t, "registration", 2*time.Second, func() bool { return agent.Position() == 1 })
	portal.addEvent(2, "acme", 2)
	waitFor(t, "position 2", 2*time.Second, func() bool { return agent.Position() == 2 })
	stop()

	if got, want := calls.snapshot(), []string{"acme@2"}; !slices.Equal(got, want) {
		t.Errorf("invalidations = %v, want %v", got, want)
	}
}

// TestAgentStaysConnectedBetweenPolls checks that the feed counts as
// connected while a poll-mode agent waits in its next long poll. Counting
// it as disconnected between polls made the edge serve old revisions from
// disk.
func TestAgentStaysConnectedBetweenPolls(t *testing.T) {
	portal := startFakePortal(t)
	portal.addEvent(1, "acme", 1)

	agent, _ := runAgent(t, portal, openDisk(t, 0), ModePoll, &invalidations{})
	waitFor(t, "the first poll", 2*time.Second, agent.Connected)

	// runAgent's long polls wait 100 ms, so 600 ms span several of them.
	deadline := time.Now().Add(600 * time.Millisecond)
	for time.Now().Before(deadline) {
		if !agent.Connected() {
			t.Fatal("feed counted as disconnected between two polls, want connected")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestHeartbeatReportsHeldRevisions(t *testing.T) {
	tests := []struct {
		name string
		held func() map[string]int64
		want map[string]int64
	}{
		{"held by L1", func() map[string]int64 { return map[string]int64{"beta": 4} }, map[string]int64{"beta": 4}},
		{"every served tenant without Held", nil, map[string]int64{"acme": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			portal := startFakePortal(t)
			portal.bundles["acme"] = sealed(t, "acme", 2)
			client := portal.client(t)
			source := NewSource(SourceOptions{Client: client})
			if _, err := source.Bundle(context.Background(), "acme"); err != nil {
				t.Fatalf("Bundle() error = %v", err)
			}

			agent, err := NewAgent(AgentOptions{Client: client, Source: source, Invalidate: func(string, int64) {}, Held: tt.held, NodeID: "n", Region: "r"})
			if err != nil {
				t.Fatalf("NewAgent() error = %v", err)
			}
			if got := agent.report().Revisions; !maps.Equal(got, tt.want) {
				t.Errorf("report revisions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewAgentNeedsParts(t *testing.T) {
	if _, err := NewAgent(AgentOptions{}); err == nil {
		t.Error("NewAgent() without a client error = nil, want an error")
	}
}

func TestReportCarriesRejected(t *testing.T) {
	client, err := NewClient("http://127.0.0.1:1", "token")
	if err != nil {
		t.Fatalf("NewClient() error = %v", err)
	}
	rejected := map[string]Rejection{"acme": {Revision: 7, Reason: "pre-flight failed"}}
	agent, err := NewAgent(AgentOptions{
		Client:     client,
		Source:     NewSource(SourceOptions{Client: client}),
		Invalidate: func(string, int64) {},
		Rejected:   func() map[string]Rejection { return rejected },
	})
	if err != nil {
		t.Fatalf("NewAgent() error = %v", err)
	}

	report := agent.report()
	if !maps.Equal(report.Rejected, rejected) {
		t.Errorf("report.Rejected = %v, want %v", report.Rejected, rejected)
	}
}

// TestReportDetailFollowsFeed checks the detail of a report before the
// feed first connects, while it is connected, and after it dropped.
func TestReportDetailFollowsFeed(t *testing.T) {
	client, err := NewClient("http://127.0.0.1:1", "token")
	if err != nil {
		t.Fatalf("NewClient() error = %v", err)
	}
	agent, err := NewAgent(AgentOptions{Client: client, Source: NewSource(SourceOptions{Client: client}), Invalidate: func(string, int64) {}})
	if err != nil {
		t.Fatalf("NewAgent() error = %v", err)
	}

	if got := agent.report().Detail; got != "change feed connecting" {
		t.Errorf("detail before the first connection = %q, want %q", got, "change feed connecting")
	}
	agent.setConnected(true)
	if got := agent.report().Detail; got != "" {
		t.Errorf("detail while connected = %q, want none", got)
	}
	agent.setConnected(false)
	if got := agent.report().Detail; got != "change feed disconnected" {
		t.Errorf("detail after the feed dropped = %q, want %q", got, "change feed disconnected")
	}
}
