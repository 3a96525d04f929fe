package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"portcullis.dev/tenants/config"
)

// maxProbeBody bounds the bytes of a probe response that are read, so the
// connection can be reused.
const maxProbeBody = 4 << 10

// Upstream is the part of one upstream of a tenant that Sync reads.
type Upstream struct {
	Name string
	// Targets are the target URLs, the only addresses that probes reach.
	Targets []*url.URL
	// Active configures the active checks. Nil runs none.
	Active *config.ActiveCheck
	// Transport sends the probes, so they use the upstream's protocol and
	// TLS settings. Nil means http.DefaultTransport.
	Transport http.RoundTripper
	// TransportID changes when Transport's settings change, which
	// restarts the checker.
	TransportID string
}

// Sync makes the tenant's checkers and target states match upstreams, the
// complete list of the tenant's upstreams in its newest config. It starts
// checkers for new or changed active checks, stops those of upstreams that
// vanished or lost their active check, and drops the state of targets
// that are gone. Unchanged checkers and the state of remaining targets carry
// over.
func (r *Registry) Sync(tenant string, upstreams []Upstream) {
	// Two Syncs at once could both start a checker for one upstream.
	r.syncMu.Lock()
	defer r.syncMu.Unlock()

	desired := map[checkerKey]Upstream{}
	liveTargets := map[Key]bool{}
	for _, upstream := range upstreams {
		for _, target := range upstream.Targets {
			liveTargets[Key{Tenant: tenant, Upstream: upstream.Name, Target: target.String()}] = true
		}
		if upstream.Active != nil {
			desired[checkerKey{tenant: tenant, upstream: upstream.Name}] = upstream
		}
	}

	var stopped []*checker
	r.mu.Lock()
	for key, running := range r.checkers {
		if key.tenant != tenant {
			continue
		}
		if upstream, ok := desired[key]; ok && running.fingerprint == fingerprint(upstream) {
			delete(desired, key)
			continue
		}
		stopped = append(stopped, running)
		delete(r.checkers, key)
	}
	for key := range r.targets {
		if key.Tenant == tenant && !liveTargets[key] {
			delete(r.targets, key)
		}
	}
	r.mu.Unlock()

	// The targets of a checker stopped for good come back into the
	// rotation. A restarted checker keeps its targets' state.
	for _, running := range stopped {
		running.stop()
		if _, restarting := desired[running.key]; restarting {
			continue
		}
		for _, state := range running.targets {
			state.activeDown.Store(false)
		}
	}

	for key, upstream := range desired {
		r.start(key, upstream)
	}
}

func (r *Registry) start(key checkerKey, upstream Upstream) {
	urls := make([]string, len(upstream.Targets))
	for i, target := range upstream.Targets {
		urls[i] = target.String()
	}
	states := r.Targets(key.tenant, key.upstream, urls)

	transport := upstream.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	ctx, cancel := context.WithCancel(context.Background())
	running := &checker{
		registry:    r,
		key:         key,
		check:       *upstream.Active,
		urls:        upstream.Targets,
		targets:     states,
		fingerprint: fingerprint(upstream),
		client: &http.Client{
			Transport: transport,
			Timeout:   upstream.Active.Timeout(),
			// A probe never follows a redirect, so it reaches only the
			// target URLs.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		cancel: cancel,
		done:   make(chan struct{}),
	}

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel()
		return
	}
	r.checkers[key] = running
	r.mu.Unlock()

	go running.run(ctx)
}

func fingerprint(upstream Upstream) string {
	encoded, _ := json.Marshal(struct {
		Check     *config.ActiveCheck
		Targets   []*url.URL
		Transport string
	}{upstream.Active, upstream.Targets, upstream.TransportID})
	return string(encoded)
}

// checker probes the targets of one upstream every interval.
type checker struct {
	registry    *Registry
	key         checkerKey
	check       config.ActiveCheck
	urls        []*url.URL
	targets     []*Target
	fingerprint string
	client      *http.Client
	cancel      context.CancelFunc
	done        chan struct{}
}

// counts are the passed and failed probes in a row of one target.
type counts struct {
	passed int
	failed int
}

func (c *checker) stop() {
	c.cancel()
	<-c.done
	c.client.CloseIdleConnections()
}

func (c *checker) run(ctx context.Context) {
	defer close(c.done)

	ticker := time.NewTicker(c.check.Interval())
	defer ticker.Stop()

	streaks := make([]counts, len(c.targets))
	for {
		c.probeAll(ctx, streaks)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// probeAll probes every target at once, each probe waiting for a slot of
// the registry's bound, and applies the results.
func (c *checker) probeAll(ctx context.Context, streaks []counts) {
	results := make([]error, len(c.targets))
	var wg sync.WaitGroup
	for i := range c.targets {
		wg.Go(func() {
			if !c.registry.acquireProbe(ctx) {
				results[i] = ctx.Err()
				return
			}
			defer c.registry.releaseProbe()
			results[i] = c.probe(ctx, c.urls[i])
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}

	healthy, unhealthy := c.check.Thresholds()
	for i, failure := range results {
		c.apply(i, failure, &streaks[i], healthy, unhealthy)
	}
}

// apply counts the result of target i's probe, failure or nil when it
// passed, and moves the target in or out of the rotation.
func (c *checker) apply(i int, failure error, streak *counts, healthy, unhealthy int) {
	state := c.targets[i]
	if failure == nil {
		streak.passed, streak.failed = streak.passed+1, 0
		if state.activeDown.Load() && streak.passed >= healthy {
			state.activeDown.Store(false)
			c.registry.log.Info("upstream target is healthy again", "tenant", c.key.tenant, "upstream", c.key.upstream, "target", c.urls[i].Host)
		}
		return
	}

	streak.passed, streak.failed = 0, streak.failed+1
	if !state.activeDown.Load() && streak.failed >= unhealthy {
		state.activeDown.Store(true)
		c.registry.log.Error("upstream target failed its health checks; taken out of the rotation", "tenant", c.key.tenant, "upstream", c.key.upstream, "target", c.urls[i].Host, "failed_probes", streak.failed, "error", failure)
	}
}

// probe sends one GET to the check path of target. It returns nil when the
// status passes, and otherwise why the probe failed.
func (c *checker) probe(ctx context.Context, target *url.URL) error {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, probeURL(target, c.check.CheckPath()), nil)
	if err != nil {
		return err
	}
	request.Header.Set("User-Agent", "portcullis-health-check")

	response, err := c.client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(response.Body, maxProbeBody))
	if !c.check.Passes(response.StatusCode) {
		return fmt.Errorf("status %d is not a passing status", response.StatusCode)
	}
	return nil
}

// probeURL joins the check path, with its optional query, to the target's
// base path. The scheme and host are always the target's.
func probeURL(target *url.URL, path string) string {
	joined := *target
	rawPath, rawQuery, _ := strings.Cut(path, "?")
	joined.Path = strings.TrimSuffix(target.Path, "/") + rawPath
	joined.RawPath = ""
	joined.RawQuery = rawQuery
	return joined.String()
}
