package sync

import (
	"context"
	"errors"
	"log/slog"
	gosync "sync"
	"sync/atomic"
	"time"

	"portcullis.dev/edge/lkg"
	"portcullis.dev/edge/tlsconf"
)

// Defaults of AgentOptions fields left zero.
const (
	DefaultHeartbeat = 2 * time.Second
	// DefaultPollWait is the long-poll wait in ModePoll.
	DefaultPollWait = 25 * time.Second
	// savePositionEvery bounds how often the feed position is written to
	// disk; a restart replays at most this much of the feed.
	savePositionEvery = 250 * time.Millisecond
	// maxRetryWait caps the wait between reconnects to the portal.
	maxRetryWait = 2 * time.Second
)

// Feed modes.
const (
	// ModeStream follows the Server-Sent Events stream, falling back to
	// long polls when the stream cannot open.
	ModeStream = "stream"
	// ModePoll follows the feed by long polls only.
	ModePoll = "poll"
)

// AgentOptions configure an Agent. Client, Source and Invalidate are
// required.
type AgentOptions struct {
	Client *Client
	Source *Source
	// Disk keeps the feed position across restarts. Nil starts each run at
	// the feed head.
	Disk *lkg.Dir
	// Invalidate notifies L1 that a tenant changed, such as edge.Invalidate.
	Invalidate func(tenant string, revision int64)
	// Held returns the revision of each tenant that L1 holds, such as
	// edge.HeldRevisions. Heartbeats report it, so the portal never counts
	// a tenant that L1 evicted as served. Nil reports every tenant the
	// Source returned a bundle of.
	Held func() map[string]int64
	// Domains receives the portal's index of custom domains: at start,
	// after each reconnect and after each change event of a domain. Nil
	// skips the index.
	Domains *tlsconf.Index
	// PluginErrors returns the failed hook calls per plugin version, keyed
	// by name@version, since the edge started, such as PluginErrorCounts
	// of the edge's metrics registry. Nil reports none.
	PluginErrors func() map[string]int64
	// Rejected returns the newest revision of each tenant that the edge
	// failed to build and the reason, such as a conversion of
	// edge.RejectedRevisions. Nil reports none.
	Rejected  func() map[string]Rejection
	NodeID    string
	Region    string
	Mode      string
	Heartbeat time.Duration
	PollWait  time.Duration
	Metrics   *Metrics
	Logger    *slog.Logger
}

// Agent follows the change feed from the last position it applied and
// sends heartbeats. Each event is applied once, in feed order: the Source
// learns the revision, then L1 is invalidated.
type Agent struct {
	opts      AgentOptions
	instance  string
	conflicts conflictLog
	position  atomic.Int64
	started   atomic.Bool
	connected atomic.Bool
	// everConnected is set once the feed first connected, so that a
	// report distinguishes an edge still starting from one that lost the
	// feed.
	everConnected atomic.Bool
	saved         int64
	domains       *domainRefresher
}

// NewAgent returns an Agent. It starts following at the position saved on
// disk, or at the feed head when none is saved.
func NewAgent(opts AgentOptions) (*Agent, error) {
	if opts.Client == nil || opts.Source == nil || opts.Invalidate == nil {
		return nil, errors.New("sync agent needs a Client, a Source and an Invalidate function")
	}
	if opts.Mode == "" {
		opts.Mode = ModeStream
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.PollWait <= 0 {
		opts.PollWait = DefaultPollWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	a := &Agent{opts: opts, instance: newInstance(), domains: newDomainRefresher(opts.Client, opts.Domains)}
	if opts.Disk != nil {
		position, found, err := opts.Disk.LoadPosition()
		if err != nil {
			return nil, err
		}
		if found {
			a.position.Store(position)
			a.started.Store(true)
			a.saved = position
		}
	}
	return a, nil
}

// Position returns the last feed position applied.
func (a *Agent) Position() int64 {
	return a.position.Load()
}

// Connected reports whether the agent currently follows the feed.
func (a *Agent) Connected() bool {
	return a.connected.Load()
}

// Run follows the feed and sends heartbeats until ctx ends. It returns
// after the last position is written to disk.
func (a *Agent) Run(ctx context.Context) {
	var saved gosync.WaitGroup
	defer saved.Wait()
	saved.Go(func() { a.savePositions(ctx) })
	go a.heartbeats(ctx)
	if a.domains != nil {
		go a.refreshDomains(ctx)
	}

	failures := 0
	for ctx.Err() == nil {
		err := a.followOnce(ctx)
		if ctx.Err() != nil {
			return
		}

		if err == nil {
			// The portal ended a healthy stream at its lifetime, or a long
			// poll returned. Both are routine and show that the portal is
			// up, so the feed stays connected while the agent reads on.
			// Marking it disconnected here made the edge serve its disk
			// copy of each changed tenant between polls.
			if a.opts.Mode != ModePoll {
				a.opts.Logger.Debug("change feed ended at its lifetime; reconnecting", "edge", a.opts.NodeID, "position", a.Position())
			}
			failures = 0
			continue
		}

		a.setConnected(false)

		failures++
		if failures == 1 || failures%30 == 0 {
			a.opts.Logger.Warn("change feed disconnected; reconnecting", "edge", a.opts.NodeID, "region", a.opts.Region, "position", a.Position(), "error", err)
		}
		sleep(ctx, min(time.Duration(failures)*100*time.Millisecond, maxRetryWait))
	}
}

// followOnce reads the feed until it ends or fails.
func (a *Agent) followOnce(ctx context.Context) error {
	if !a.started.Load() {
		answer, err := a.heartbeat(ctx)
		if err != nil {
			return err
		}
		head := answer.Head
		// NOTE: a tenant that a request loaded before this first
		// heartbeat keeps the revision it loaded if a change landed
		// between that load and the head returned here.
		a.saveRegistration(head)
		a.position.Store(head)
		a.started.Store(true)
		a.opts.Logger.Info("edge registered; following the change feed from its head", "edge", a.opts.NodeID, "region", a.opts.Region, "position", head)
	}

	if a.opts.Mode == ModePoll {
		return a.pollOnce(ctx)
	}
	opened := false
	err := a.opts.Client.Stream(ctx, a.Position(), func() {
		opened = true
		a.setConnected(true)
	}, a.apply)
	if err != nil && !opened && !errors.Is(err, ErrUnavailable) {
		// The portal responded but rejected the stream, as a proxy that
		// does not pass Server-Sent Events might: long-poll instead.
		return a.pollOnce(ctx)
	}
	return err
}

func (a *Agent) pollOnce(ctx context.Context) error {
	events, err := a.opts.Client.Poll(ctx, a.Position(), a.opts.PollWait)
	if err != nil {
		return err
	}
	a.setConnected(true)

	for _, event := range events {
		if err := a.apply(event); err != nil {
			return err
		}
	}
	return nil
}

// apply applies one event. An event at or below the current position was
// applied already and is skipped, so a replay after a reconnect never
// applies a change twice.
func (a *Agent) apply(event Event) error {
	if event.Position <= a.Position() {
		return nil
	}

	a.opts.Source.Learn(event.Tenant, event.Revision)
	a.opts.Invalidate(event.Tenant, event.Revision)
	if changesDomains(event) {
		a.domains.request()
	}
	a.position.Store(event.Position)
	a.opts.Metrics.applied(event)
	a.opts.Logger.Debug("change event applied", "tenant", event.Tenant, "revision", event.Revision, "position", event.Position)
	return nil
}

// setConnected records the feed state. On a reconnect it invalidates every
// tenant whose served revision fell behind while the portal was away, since
// refreshes that failed meanwhile gave up.
func (a *Agent) setConnected(connected bool) {
	was := a.connected.Swap(connected)
	if connected {
		a.everConnected.Store(true)
	}
	a.opts.Source.SetPortalDown(!connected)
	a.opts.Metrics.setConnected(connected)

	if connected && !was {
		a.domains.request()
		for tenant, revision := range a.opts.Source.Stale() {
			a.opts.Invalidate(tenant, revision)
		}
	}
}

func (a *Agent) heartbeats(ctx context.Context) {
	ticker := time.NewTicker(a.opts.Heartbeat)
	defer ticker.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}

		answer, err := a.heartbeat(ctx)
		if err == nil {
			a.opts.Metrics.setHead(answer.Head)
		}
	}
}

// heartbeat sends one report, and logs when the portal's response reports
// another process with the same node id.
func (a *Agent) heartbeat(ctx context.Context) (HeartbeatAnswer, error) {
	answer, err := a.opts.Client.Heartbeat(ctx, a.report())
	if err == nil && answer.NodeIDConflict && a.conflicts.due(time.Now()) {
		a.opts.Logger.Error("another edge process reports the same node id; give each edge its own --node-id (PORTCULLIS_NODE_ID)", "edge", a.opts.NodeID, "instance", a.instance)
	}
	return answer, err
}

func (a *Agent) report() Report {
	revisions := a.opts.Source.Served
	if a.opts.Held != nil {
		revisions = a.opts.Held
	}

	report := Report{
		NodeID:    a.opts.NodeID,
		Region:    a.opts.Region,
		Position:  a.Position(),
		Revisions: revisions(),
		Healthy:   true,
		Instance:  a.instance,
	}
	switch {
	case a.Connected():
	case a.everConnected.Load():
		report.Detail = "change feed disconnected"
	default:
		report.Detail = "change feed connecting"
	}
	if a.opts.PluginErrors != nil {
		report.PluginErrors = a.opts.PluginErrors()
	}
	if a.opts.Rejected != nil {
		report.Rejected = a.opts.Rejected()
	}
	return report
}

// savePositions writes the position to disk when it moved, at most every
// savePositionEvery, and once more when ctx ends.
func (a *Agent) savePositions(ctx context.Context) {
	if a.opts.Disk == nil {
		return
	}

	ticker := time.NewTicker(savePositionEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			a.savePosition()
			return
		case <-ticker.C:
			a.savePosition()
		}
	}
}

// saveRegistration writes the head the edge registered at, at once rather
// than at the next tick. An edge killed before that tick would otherwise
// restart without a position, serve its disk copies and register at a later
// head, skipping the changes made in between for good.
func (a *Agent) saveRegistration(head int64) {
	if a.opts.Disk == nil {
		return
	}
	if err := a.opts.Disk.SavePosition(head); err != nil {
		a.opts.Logger.Warn("saving the feed position failed", "edge", a.opts.NodeID, "position", head, "error", err)
	}
}

func (a *Agent) savePosition() {
	position := a.Position()
	if position == a.saved || !a.started.Load() {
		return
	}
	if err := a.opts.Disk.SavePosition(position); err != nil {
		a.opts.Logger.Warn("saving the feed position failed", "edge", a.opts.NodeID, "position", position, "error", err)
		return
	}
	a.saved = position
}

func sleep(ctx context.Context, wait time.Duration) {
	if wait <= 0 {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
