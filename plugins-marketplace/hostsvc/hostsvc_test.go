package hostsvc

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// testRedisDB is the only Redis database these tests use and flush.
const testRedisDB = 9

// redisClient connects to the machine's Redis at 127.0.0.1:6379, DB 9, and
// flushes that database before and after the test.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testRedisDB})
	ctx := context.Background()
	if err := client.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush Redis DB %d at 127.0.0.1:6379: %v", testRedisDB, err)
	}
	t.Cleanup(func() {
		_ = client.FlushDB(context.Background()).Err()
		_ = client.Close()
	})
	return client
}

func TestRedisLimitSharedByEdges(t *testing.T) {
	client := redisClient(t)
	// Two Services are two edges of one region sharing one Redis.
	edges := []pluginhost.Host{
		New(nil, client).Tenant("acme").Request(nil),
		New(nil, client).Tenant("acme").Request(nil),
	}
	ctx := context.Background()

	var allowed int
	for i := range 10 {
		got, err := edges[i%2].Limit(ctx, "redis", "login", 6, time.Minute)
		if err != nil {
			t.Fatalf("request %d: Limit: %v", i, err)
		}
		if got.Allowed {
			allowed++
		}
		if wantRemaining := int64(max(6-(i+1), 0)); got.Remaining != wantRemaining {
			t.Errorf("request %d: remaining = %d, want %d", i, got.Remaining, wantRemaining)
		}
		if got.Reset <= 0 || got.Reset > time.Minute {
			t.Errorf("request %d: reset = %s, want within the 1m window", i, got.Reset)
		}
	}
	if allowed != 6 {
		t.Errorf("allowed = %d over two edges, want 6", allowed)
	}

	other, err := New(nil, client).Tenant("globex").Request(nil).Limit(ctx, "redis", "login", 6, time.Minute)
	if err != nil {
		t.Fatalf("Limit for globex: %v", err)
	}
	if !other.Allowed || other.Remaining != 5 {
		t.Errorf("globex = %+v, want its own count: allowed with 5 remaining", other)
	}
}

func TestRedisLimitWindowEnds(t *testing.T) {
	client := redisClient(t)
	host := New(nil, client).Tenant("acme").Request(nil)
	ctx := context.Background()

	for i := range 2 {
		if _, err := host.Limit(ctx, "redis", "burst", 1, time.Second); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	time.Sleep(1100 * time.Millisecond)

	got, err := host.Limit(ctx, "redis", "burst", 1, time.Second)
	if err != nil {
		t.Fatalf("Limit after the window: %v", err)
	}
	if !got.Allowed {
		t.Errorf("allowed = false after the window ended, want true")
	}
}

func TestRedisLimitWithoutRedis(t *testing.T) {
	host := New(nil, nil).Tenant("acme").Request(nil)

	_, err := host.Limit(context.Background(), "redis", "login", 1, time.Second)
	if err == nil || !strings.Contains(err.Error(), "no Redis") {
		t.Errorf("Limit error = %v, want one that says no Redis is configured", err)
	}
}

func TestKVBounds(t *testing.T) {
	host := New(nil, nil).Tenant("acme").Request(nil)

	tests := []struct {
		name    string
		key     string
		value   any
		wantErr string
	}{
		{name: "empty key", key: "", value: "x", wantErr: "key must be 1 to 256 bytes"},
		{name: "key too long", key: strings.Repeat("k", MaxKeyLength+1), value: "x", wantErr: "key must be 1 to 256 bytes"},
		{name: "longest key", key: strings.Repeat("k", MaxKeyLength), value: "x"},
		{name: "value too large", key: "big", value: strings.Repeat("v", MaxValueLength), wantErr: "above the limit"},
		{name: "largest value", key: "fits", value: strings.Repeat("v", MaxValueLength-2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := host.KVSet(tt.key, tt.value, 0)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("KVSet error = %v, want nil", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("KVSet error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestKVKeyLimit(t *testing.T) {
	host := New(nil, nil).Tenant("acme").Request(nil)
	for i := range MaxKeys {
		if err := host.KVSet(fmt.Sprintf("key-%d", i), int64(i), 0); err != nil {
			t.Fatalf("KVSet key %d: %v", i, err)
		}
	}

	if err := host.KVSet("one-more", "x", 0); err == nil || !strings.Contains(err.Error(), "full") {
		t.Errorf("KVSet past %d keys error = %v, want the store to be full", MaxKeys, err)
	}
	if _, err := host.KVIncr("one-more-counter", 1, 0); err == nil {
		t.Errorf("KVIncr past %d keys error = nil, want the store to be full", MaxKeys)
	}
	if err := host.KVSet("key-0", "replaced", 0); err != nil {
		t.Errorf("KVSet of an existing key in a full store: %v, want nil", err)
	}
}

func TestKVKeysCannotReachLimitCounters(t *testing.T) {
	host := New(nil, nil).Tenant("acme").Request(nil)
	for range 3 {
		host.Limit(context.Background(), "local", "login", 10, time.Minute)
	}

	counter := "\x00limit:login"
	if err := host.KVSet(counter, "not a count", 0); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Errorf("KVSet(%q) error = %v, want a control character error", counter, err)
	}
	if _, err := host.KVIncr(counter, 100, 0); err == nil {
		t.Errorf("KVIncr(%q) error = nil, want a control character error", counter)
	}
	if value, found := host.KVGet(counter); found {
		t.Errorf("KVGet(%q) = %v, want the counter out of reach", counter, value)
	}
	host.KVDelete(counter)

	result, err := host.Limit(context.Background(), "local", "login", 10, time.Minute)
	if err != nil || result.Remaining != 6 {
		t.Errorf("fourth Limit = %+v, %v; want 6 remaining, the count kept", result, err)
	}
}

func TestKVIncrRejectsOverflow(t *testing.T) {
	host := New(nil, nil).Tenant("acme").Request(nil)
	if _, err := host.KVIncr("n", math.MaxInt64, 0); err != nil {
		t.Fatalf("KVIncr to the maximum: %v", err)
	}

	if got, err := host.KVIncr("n", 1, 0); err == nil || !strings.Contains(err.Error(), "outside the 64-bit range") {
		t.Errorf("KVIncr past the maximum = %d, %v; want an overflow error", got, err)
	}
	if value, _ := host.KVGet("n"); value != int64(math.MaxInt64) {
		t.Errorf("counter after the rejected increment = %v, want it unchanged", value)
	}
	if got, err := host.KVIncr("n", -1, 0); err != nil || got != math.MaxInt64-1 {
		t.Errorf("KVIncr by -1 = %d, %v; want %d", got, err, int64(math.MaxInt64-1))
	}
}

func TestKVTenantIsolation(t *testing.T) {
	services := New(nil, nil)
	acme := services.Tenant("acme").Request(nil)
	globex := services.Tenant("globex").Request(nil)

	if err := acme.KVSet("secret", "acme-only", 0); err != nil {
		t.Fatalf("KVSet: %v", err)
	}
	if _, err := acme.KVIncr("hits", 5, 0); err != nil {
		t.Fatalf("KVIncr: %v", err)
	}

	if value, found := globex.KVGet("secret"); found {
		t.Errorf("globex read acme's key: %v", value)
	}
	if got, err := globex.KVIncr("hits", 1, 0); err != nil || got != 1 {
		t.Errorf("globex counter = %d, %v, want its own counter at 1", got, err)
	}
	globex.KVDelete("secret")
	if value, found := acme.KVGet("secret"); !found || value != "acme-only" {
		t.Errorf("acme key after globex's delete = %v, %v, want acme-only", value, found)
	}
}

func TestKVCounterAndTTL(t *testing.T) {
	host := New(nil, nil).Tenant("acme").Request(nil)

	if _, err := host.KVIncr("n", 2, 50*time.Millisecond); err != nil {
		t.Fatalf("KVIncr: %v", err)
	}
	if got, _ := host.KVIncr("n", 3, 0); got != 5 {
		t.Errorf("counter = %d, want 5", got)
	}
	if err := host.KVSet("word", "x", 0); err != nil {
		t.Fatalf("KVSet: %v", err)
	}
	if _, err := host.KVIncr("word", 1, 0); err == nil {
		t.Error("KVIncr on a string error = nil, want an error")
	}

	time.Sleep(80 * time.Millisecond)
	if value, found := host.KVGet("n"); found {
		t.Errorf("counter after its ttl = %v, want gone", value)
	}
}

func TestFetchAllowedHost(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", r.Header.Get("X-Token"))
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	}))
	t.Cleanup(server.Close)
	address := strings.TrimPrefix(server.URL, "http://")
	host := loopbackServices().Tenant("acme").Request(nil)

	caller := pluginhost.Caller{Plugin: "p", AllowHosts: []string{address}}
	resp, err := host.Fetch(context.Background(), caller, pluginhost.OutboundRequest{
		Method: "POST", URL: server.URL + "/check", Header: http.Header{"X-Token": {"t1"}}, Timeout: time.Second,
	})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if resp.Status != http.StatusOK || string(resp.Body) != "POST /check" {
		t.Errorf("response = %d %q, want 200 %q", resp.Status, resp.Body, "POST /check")
	}
	if seen := resp.Header.Get("X-Seen"); seen != "t1" {
		t.Errorf("X-Seen = %q, want the request header t1", seen)
	}
}

func TestFetchRejected(t *testing.T) {
	var redirected atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Store(true)
	}))
	t.Cleanup(target.Close)
	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/landed", http.StatusFound))
	t.Cleanup(redirector.Close)

	redirectorHost := strings.TrimPrefix(redirector.URL, "http://")
	targetHost := strings.TrimPrefix(target.URL, "http://")
	host := loopbackServices().Tenant("acme").Request(nil)

	tests := []struct {
		name    string
		allow   []string
		url     string
		wantErr string
	}{
		{name: "host not allowed", allow: []string{redirectorHost}, url: target.URL + "/", wantErr: "not in the binding's allow_hosts"},
		{name: "empty allow list", allow: nil, url: target.URL + "/", wantErr: "not in the binding's allow_hosts"},
		{name: "other port of allowed host", allow: []string{"127.0.0.1:1"}, url: target.URL + "/", wantErr: "not in the binding's allow_hosts"},
		{name: "not http", allow: []string{targetHost}, url: "file:///etc/passwd", wantErr: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := pluginhost.Caller{AllowHosts: tt.allow}
			_, err := host.Fetch(context.Background(), caller, pluginhost.OutboundRequest{Method: "GET", URL: tt.url, Timeout: time.Second})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Fetch error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}

	t.Run("redirect not followed", func(t *testing.T) {
		caller := pluginhost.Caller{AllowHosts: []string{redirectorHost}}
		resp, err := host.Fetch(context.Background(), caller, pluginhost.OutboundRequest{Method: "GET", URL: redirector.URL + "/", Timeout: time.Second})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if resp.Status != http.StatusFound {
			t.Errorf("status = %d, want the 302 itself", resp.Status)
		}
		location, _ := url.Parse(resp.Header.Get("Location"))
		if location == nil || location.Host != targetHost {
			t.Errorf("Location = %q, want the target", resp.Header.Get("Location"))
		}
	})
	if redirected.Load() {
		t.Error("target received a request, want no request to a host outside allow_hosts")
	}
}

// limitSource lets a request through while ctx.limit.redis allows it.
const limitSource = `func access(ctx, conf) {
  got := ctx.limit.redis("api", 3, 60)
  if !got["allowed"] { ctx.exit(429, "slow down") }
}
`

func TestScriptRedisLimitAcrossEdges(t *testing.T) {
	client := redisClient(t)
	plugin, err := pluginhost.Compile("limit", "1.0.0", limitSource)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	instance, err := plugin.BindWith(nil, pluginhost.BindOptions{Tenant: "acme", Binding: "b1"})
	if err != nil {
		t.Fatalf("BindWith: %v", err)
	}
	edges := []*Services{New(nil, client), New(nil, client)}

	var statuses []int
	for i := range 5 {
		ex := &pluginhost.Exchange{Request: pluginhost.Request{Path: "/"}, Host: edges[i%2].Tenant("acme").Request(nil)}
		if err := instance.Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
			t.Fatalf("request %d: Run: %v", i, err)
		}
		status := 200
		if ex.Exit != nil {
			status = ex.Exit.Status
		}
		statuses = append(statuses, status)
	}
	if got, want := fmt.Sprint(statuses), "[200 200 200 429 429]"; got != want {
		t.Errorf("statuses = %s, want %s", got, want)
	}
}

func TestScriptHTTPAllowHosts(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "pong")
	}))
	t.Cleanup(server.Close)
	address := strings.TrimPrefix(server.URL, "http://")
	source := `func access(ctx, conf) {
  resp := ctx.http.get(conf["url"])
  ctx.req.set_header("X-Got", string(resp["status"]) + " " + resp["body"])
}
`
	plugin, err := pluginhost.Compile("fetch", "1.0.0", source)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}

	tests := []struct {
		name    string
		allow   []string
		want    string
		wantErr string
	}{
		{name: "allowed", allow: []string{address}, want: "200 pong"},
		{name: "not allowed", allow: []string{"127.0.0.1:1"}, wantErr: "not in the binding's allow_hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instance, err := plugin.BindWith([]byte(`{"url":"`+server.URL+`/ping"}`), pluginhost.BindOptions{Tenant: "acme", AllowHosts: tt.allow})
			if err != nil {
				t.Fatalf("BindWith: %v", err)
			}
			ex := &pluginhost.Exchange{Request: pluginhost.Request{Path: "/"}, Host: loopbackServices().Tenant("acme").Request(nil)}

			err = instance.Run(context.Background(), pluginhost.PhaseAccess, ex)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Run error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := ex.Request.Header.Get("X-Got"); got != tt.want {
				t.Errorf("X-Got = %q, want %q", got, tt.want)
			}
		})
	}
}
