package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// edgeInstance is one edge process of a rolling restart, restarted on the
// same HTTP and admin ports.
type edgeInstance struct {
	cfg   Config
	edge  *Edge
	addrs Addrs
	ready atomic.Bool
}

func (in *edgeInstance) start(t *testing.T) {
	t.Helper()
	e, err := New(in.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.Start(); err != nil {
		t.Fatalf("Start on %s: %v", in.cfg.HTTPAddr, err)
	}
	in.edge, in.addrs = e, e.Addrs()

	// The first start picks free ports, and each restart binds them again.
	// Other goroutines read the addresses only after the first start.
	if in.cfg.HTTPAddr != in.addrs.HTTP {
		in.cfg.HTTPAddr, in.cfg.AdminAddr = in.addrs.HTTP, in.addrs.Admin
	}
}

// stop drains the instance within grace.
func (in *edgeInstance) stop(t *testing.T, grace time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := in.edge.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown of %s: %v", in.addrs.HTTP, err)
	}
}

// watchReady keeps in.ready equal to whether /readyz returns 200, polled
// every 10ms until ctx ends, as a load balancer's health check does.
func (in *edgeInstance) watchReady(ctx context.Context, client *http.Client) {
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		resp, err := client.Get("http://" + in.cfg.AdminAddr + "/readyz")
		ok := err == nil && resp.StatusCode == http.StatusOK
		if err == nil {
			resp.Body.Close()
		}
		in.ready.Store(ok)

		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// TestRollingRestart restarts two edge instances one after the other under
// a bounded load. The test's client balances over the instances that pass
// /readyz and retries a request only when the connection was refused, so
// the request never left the client. Every request must succeed.
func TestRollingRestart(t *testing.T) {
	upstream := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(15 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	}))
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream, allRoute, nil))
	// The drain delay is ten polls of the balancer's readiness check.
	instances := []*edgeInstance{
		{cfg: Config{Source: source, HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DrainDelay: 100 * time.Millisecond}},
		{cfg: Config{Source: source, HTTPAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", DrainDelay: 100 * time.Millisecond}},
	}
	for _, in := range instances {
		in.start(t)
	}
	defer func() {
		for _, in := range instances {
			_ = in.edge.Shutdown(context.Background())
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	probe := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: time.Second}
	for _, in := range instances {
		go in.watchReady(ctx, probe)
	}
	waitFor(t, "both instances ready", func() bool { return instances[0].ready.Load() && instances[1].ready.Load() })

	// The load runs until both instances restarted and served 50 more
	// requests, and at most 5000 requests.
	load := newBoundedLoad(instances, 5000)
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		load.run(ctx, 8, stop)
		close(loadDone)
	}()

	for _, in := range instances {
		waitForRequests(t, load, 50)
		// net/http counts a connection that has not sent a request yet as
		// active for 5s, and the load balancer's client pre-opens some.
		in.stop(t, 10*time.Second)
		in.start(t)
		waitFor(t, "restarted instance ready", in.ready.Load)
	}
	waitForRequests(t, load, 50)
	close(stop)
	<-loadDone

	sent := load.sent.Load()
	if lost := load.lost.Load(); lost != 0 {
		t.Errorf("requests lost = %d of %d, want 0 (first error: %v)", lost, sent, load.firstError())
	}
	if done := load.done.Load(); done != sent {
		t.Errorf("requests completed = %d of %d sent", done, sent)
	}
	t.Logf("%d requests, %d retried after a refused connection", sent, load.refused.Load())
}

// waitForRequests waits at most 5s for count more requests to complete.
func waitForRequests(t *testing.T, load *boundedLoad, count int64) {
	t.Helper()
	target := load.done.Load() + count
	deadline := time.Now().Add(5 * time.Second)
	for load.done.Load() < target {
		if time.Now().After(deadline) || load.lost.Load() > 0 {
			t.Fatalf("%d more requests did not complete within 5s (completed %d, lost %d, first error %v)", count, load.done.Load(), load.lost.Load(), load.firstError())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// boundedLoad sends GET requests over HTTP/1.1 with keep-alive to the
// ready instances, in turn, until it is stopped or has sent limit requests.
type boundedLoad struct {
	instances []*edgeInstance
	client    *http.Client
	limit     int64

	sent    atomic.Int64
	turn    atomic.Int64
	done    atomic.Int64
	lost    atomic.Int64
	refused atomic.Int64

	mu       sync.Mutex
	firstErr error
}

func newBoundedLoad(instances []*edgeInstance, limit int64) *boundedLoad {
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}, Timeout: 5 * time.Second}
	return &boundedLoad{instances: instances, client: client, limit: limit}
}

func (l *boundedLoad) run(ctx context.Context, workers int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && !isClosed(stop) && l.sent.Load() < l.limit {
				l.sent.Add(1)
				l.send(ctx)
			}
		})
	}
	wg.Wait()
	l.client.CloseIdleConnections()
}

// send delivers one request. It retries, at most 100 times, only a refused
// connection: the request never reached an edge.
func (l *boundedLoad) send(ctx context.Context) {
	var err error
	for range 100 {
		in := l.pick()
		if in == nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		err = l.get(ctx, in.cfg.HTTPAddr)
		if errors.Is(err, syscall.ECONNREFUSED) {
			l.refused.Add(1)
			in.ready.Store(false)
			continue
		}
		break
	}
	if err != nil {
		l.lost.Add(1)
		l.mu.Lock()
		if l.firstErr == nil {
			l.firstErr = err
		}
		l.mu.Unlock()
		return
	}
	l.done.Add(1)
}

// pick returns the next ready instance in turn, or nil when none is ready.
func (l *boundedLoad) pick() *edgeInstance {
	for range len(l.instances) {
		in := l.instances[int(l.turn.Add(1))%len(l.instances)]
		if in.ready.Load() {
			return in
		}
	}
	return nil
}

func (l *boundedLoad) get(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/load", nil)
	if err != nil {
		return err
	}
	req.Host = "acme.localhost"
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		return errors.New("response " + resp.Status + " " + string(body))
	}
	return nil
}

func isClosed(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func (l *boundedLoad) firstError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.firstErr
}
