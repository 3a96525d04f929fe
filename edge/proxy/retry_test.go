package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/tenants/config"
)

func TestRetryGetAfterDialFailure(t *testing.T) {
	live := newBackend(t, "live", nil)
	u := newUpstreams(t, UpstreamsOptions{})

	// Round robin tries the first target first: nothing listens there.
	b := build(t, config.Upstream{Targets: targets(closedURL(t), live.URL())})
	got := send(t, u, b, http.MethodGet, "", nil)
	if got.err != nil || got.status != http.StatusOK {
		t.Fatalf("GET = %d, %v; want 200 from the second target", got.status, got.err)
	}
	if got.call.Target.String() != live.URL() {
		t.Errorf("call target = %s, want %s", got.call.Target, live.URL())
	}
}

func TestNoRetryWithZeroRetries(t *testing.T) {
	live := newBackend(t, "live", nil)
	u := newUpstreams(t, UpstreamsOptions{})

	b := build(t, config.Upstream{Targets: targets(closedURL(t), live.URL()), Retries: new(0)})
	got := send(t, u, b, http.MethodGet, "", nil)
	var dialErr *DialError
	if !errors.As(got.err, &dialErr) {
		t.Fatalf("error = %v, want a *DialError", got.err)
	}
	if live.hits.Load() != 0 {
		t.Errorf("second target got %d requests, want 0 with retries 0", live.hits.Load())
	}
}

// dropAfterBody reads the whole request body, sends it to received, then
// closes the connection without a response.
func dropAfterBody(received chan<- string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case received <- string(body):
		default:
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
}

func TestNoRetryOfPostThatReachedUpstream(t *testing.T) {
	received := make(chan string, 1)
	dropping := newBackend(t, "dropping", dropAfterBody(received))
	live := newBackend(t, "live", nil)
	u := newUpstreams(t, UpstreamsOptions{})
	b := build(t, config.Upstream{Targets: targets(dropping.URL(), live.URL()), Retries: new(3)})

	got := send(t, u, b, http.MethodPost, "order=1", nil)
	if got.err == nil {
		t.Fatalf("POST = %d, want an error after the connection dropped", got.status)
	}
	if body := <-received; body != "order=1" {
		t.Errorf("first target received %q, want the body", body)
	}
	if live.hits.Load() != 0 {
		t.Errorf("second target got %d requests, want 0: a POST that reached a target is not retried", live.hits.Load())
	}
}

func TestRetryIdempotentAfterDroppedConnection(t *testing.T) {
	dropping := newBackend(t, "dropping", dropAfterBody(make(chan string, 1)))
	live := newBackend(t, "live", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	})
	u := newUpstreams(t, UpstreamsOptions{})
	b := build(t, config.Upstream{Targets: targets(dropping.URL(), live.URL())})

	// PUT is idempotent, and its small body is buffered for the retry.
	got := send(t, u, b, http.MethodPut, "state=on", nil)
	if got.err != nil || got.body != "state=on" {
		t.Fatalf("PUT = %d %q, %v; want the body echoed by the second target", got.status, got.body, got.err)
	}
}

func TestRetryPostAfterDialFailure(t *testing.T) {
	tests := []struct {
		name          string
		contentLength int64
	}{
		{name: "buffered body", contentLength: int64(len("new order"))},
		{name: "streamed body", contentLength: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := newBackend(t, "live", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				_, _ = w.Write(body)
			})
			u := newUpstreams(t, UpstreamsOptions{})
			b := build(t, config.Upstream{Targets: targets(closedURL(t), live.URL())})

			got := sendWithLength(t, u, b, "new order", tt.contentLength)
			if got.err != nil || got.body != "new order" {
				t.Fatalf("POST = %d %q, %v; want the body at the second target", got.status, got.body, got.err)
			}
		})
	}
}

func TestRetryBudgetExhausted(t *testing.T) {
	live := newBackend(t, "live", nil)
	// No ratio, a floor of two: two retries per window, then none.
	u := newUpstreams(t, UpstreamsOptions{RetryRatio: -1, RetryFloor: 2})
	dead := closedURL(t)
	b := build(t, config.Upstream{Targets: []config.Target{{URL: dead, Weight: 1000}, {URL: live.URL(), Weight: 1}}})

	for i := range 2 {
		if got := send(t, u, b, http.MethodGet, "", nil); got.err != nil {
			t.Fatalf("request %d = %v, want a retry to the live target", i, got.err)
		}
	}
	got := send(t, u, b, http.MethodGet, "", nil)
	var dialErr *DialError
	if !errors.As(got.err, &dialErr) {
		t.Fatalf("third request error = %v, want the *DialError of the dead target with the budget spent", got.err)
	}
	if live.hits.Load() != 2 {
		t.Errorf("live target got %d requests, want 2", live.hits.Load())
	}
}

func TestRetryBudgetPerUpstream(t *testing.T) {
	live := newBackend(t, "live", nil)
	u := newUpstreams(t, UpstreamsOptions{RetryRatio: -1, RetryFloor: 1})
	flaky := config.Upstream{Targets: []config.Target{{URL: closedURL(t), Weight: 1000}, {URL: live.URL(), Weight: 1}}}
	spender, err := balancer.Build("spender", &config.Upstream{Name: "api", Targets: flaky.Targets})
	if err != nil {
		t.Fatalf("balancer.Build: %v", err)
	}
	other, err := balancer.Build("other", &config.Upstream{Name: "api", Targets: flaky.Targets})
	if err != nil {
		t.Fatalf("balancer.Build: %v", err)
	}

	// Tenant spender spends its one retry, then gets none.
	if got := send(t, u, spender, http.MethodGet, "", nil); got.err != nil {
		t.Fatalf("spender's first request = %v, want a retry to the live target", got.err)
	}
	if got := send(t, u, spender, http.MethodGet, "", nil); got.err == nil {
		t.Fatal("spender's second request succeeded, want its budget spent")
	}

	// Another tenant's upstream keeps its own retry.
	if got := send(t, u, other, http.MethodGet, "", nil); got.err != nil {
		t.Errorf("other tenant's request = %v, want a retry from its own budget", got.err)
	}
}

func TestRetryBudgetRatio(t *testing.T) {
	budget := NewRetryBudget(0.2, 0)
	for range 50 {
		budget.Request()
	}
	allowed := 0
	for range 20 {
		if budget.Withdraw() {
			allowed++
		}
	}
	if allowed != 10 {
		t.Errorf("budget allowed %d retries for 50 requests at ratio 0.2, want 10", allowed)
	}
}

func TestResponseHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	other := newBackend(t, "other", nil)
	u := newUpstreams(t, UpstreamsOptions{})

	b := build(t, config.Upstream{Targets: targets(slow.URL(), other.URL())}).WithTimeouts(config.Timeouts{ResponseHeaderMS: 50})
	got := send(t, u, b, http.MethodGet, "", nil)

	var timeoutErr *ResponseHeaderTimeoutError
	if !errors.As(got.err, &timeoutErr) || !errors.Is(got.err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want a response header timeout that matches context.DeadlineExceeded", got.err)
	}
	if other.hits.Load() != 0 {
		t.Errorf("second target got %d requests, want 0: a timeout is not retried", other.hits.Load())
	}
}

func TestIsIdempotent(t *testing.T) {
	for method, want := range map[string]bool{
		http.MethodGet: true, http.MethodHead: true, http.MethodOptions: true, http.MethodTrace: true,
		http.MethodPut: true, http.MethodDelete: true, http.MethodPost: false, http.MethodPatch: false, http.MethodConnect: false,
	} {
		if got := isIdempotent(method); got != want {
			t.Errorf("isIdempotent(%s) = %v, want %v", method, got, want)
		}
	}
}

func TestConnectTimeoutReachesDialer(t *testing.T) {
	live := newBackend(t, "live", nil)
	u := newUpstreams(t, UpstreamsOptions{})
	b := build(t, config.Upstream{Targets: targets(live.URL())}).WithTimeouts(config.Timeouts{ConnectMS: 1234})

	// Record the connect timeout that the transport's dial receives.
	pool := u.transports.get(&b.Upstream, idleTimeout(b.Upstream.Timeouts))
	dial := pool.DialContext
	var seen atomic.Int64
	pool.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if timeout, ok := ctx.Value(connectTimeoutKey{}).(time.Duration); ok {
			seen.Store(int64(timeout))
		}
		return dial(ctx, network, addr)
	}

	if got := send(t, u, b, http.MethodGet, "", nil); got.err != nil {
		t.Fatalf("GET failed: %v", got.err)
	}
	if got := time.Duration(seen.Load()); got != 1234*time.Millisecond {
		t.Errorf("dial saw connect timeout %s, want 1.234s", got)
	}
}

func TestDialTimeoutIsTimeout(t *testing.T) {
	live := newBackend(t, "live", nil)
	ctx := withConnectTimeout(context.Background(), time.Nanosecond)

	_, err := dialer(time.Second, nil)(ctx, "tcp", live.server.Listener.Addr().String())
	var dialErr *DialError
	var netErr net.Error
	if !errors.As(err, &dialErr) || !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("dial error = %v, want a *DialError that is a net.Error timeout", err)
	}
}

func TestUpstreamHeaderAboveLimitFails(t *testing.T) {
	huge := newBackend(t, "huge", func(w http.ResponseWriter, r *http.Request) {
		for i := range 2 * MaxUpstreamHeaderBytes / 4096 {
			w.Header().Set(fmt.Sprintf("X-Filler-%d", i), strings.Repeat("x", 4096))
		}
	})
	u := newUpstreams(t, UpstreamsOptions{})

	got := send(t, u, build(t, config.Upstream{Targets: targets(huge.URL())}), http.MethodGet, "", nil)
	if got.err == nil || !strings.Contains(got.err.Error(), "response headers exceeded") {
		t.Errorf("error = %v, want the transport's header limit", got.err)
	}
}
