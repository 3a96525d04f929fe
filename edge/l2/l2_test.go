package l2

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// testRedisURL is the machine's Redis in a database that only these tests
// use and flush. PORTCULLIS_TEST_REDIS_L2 overrides it.
func testRedisURL() string {
	if url := os.Getenv("PORTCULLIS_TEST_REDIS_L2"); url != "" {
		return url
	}
	return "redis://127.0.0.1:6379/12"
}

// openTest returns a Cache on the test database and a raw client of it,
// after flushing the database.
func openTest(t *testing.T, opts Options) (*Cache, *redis.Client) {
	t.Helper()
	opts.URL = testRedisURL()
	cache, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%q) error = %v", opts.URL, err)
	}
	t.Cleanup(func() { cache.Close() })

	parsed, _ := redis.ParseURL(opts.URL)
	raw := redis.NewClient(parsed)
	t.Cleanup(func() { raw.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := raw.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush redis %s: %v", opts.URL, err)
	}
	return cache, raw
}

func sealed(t *testing.T, tenant string, revision int64) *bundle.Bundle {
	t.Helper()
	b := &bundle.Bundle{
		Tenant:    tenant,
		Revision:  revision,
		Upstreams: []config.Upstream{{Name: "backend", Targets: []config.Target{{URL: "http://127.0.0.1:9", Weight: 1}}}},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return b
}

func TestPutThenGet(t *testing.T) {
	cache, raw := openTest(t, Options{TTL: time.Hour})
	ctx := context.Background()
	want := sealed(t, "acme", 7)

	cache.Put(ctx, want)

	got, err := cache.Get(ctx, "acme", 7)
	if err != nil {
		t.Fatalf("Get() error = %v", err)
	}
	if got.Hash != want.Hash || got.Revision != 7 {
		t.Errorf("Get() = revision %d hash %q, want revision 7 hash %q", got.Revision, got.Hash, want.Hash)
	}

	ttl, err := raw.TTL(ctx, Key("acme", 7)).Result()
	if err != nil {
		t.Fatalf("TTL: %v", err)
	}
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL of %s = %s, want about 1h", Key("acme", 7), ttl)
	}
}

func TestGetMisses(t *testing.T) {
	cache, raw := openTest(t, Options{})
	ctx := context.Background()
	cache.Put(ctx, sealed(t, "acme", 1))

	tampered := sealed(t, "acme", 3)
	tampered.Hash = sealed(t, "acme", 2).Hash
	data := func(b *bundle.Bundle) string {
		encoded, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		return string(encoded)
	}

	tests := []struct {
		name     string
		tenant   string
		revision int64
		stored   string
	}{
		{"missing revision", "acme", 2, ""},
		{"missing tenant", "other", 1, ""},
		{"not JSON", "acme", 4, "not json"},
		{"hash mismatch", "acme", 3, data(tampered)},
		{"other tenant under the key", "acme", 5, data(sealed(t, "other", 5))},
		{"other revision under the key", "acme", 6, data(sealed(t, "acme", 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stored != "" {
				if err := raw.Set(ctx, Key(tt.tenant, tt.revision), tt.stored, time.Minute).Err(); err != nil {
					t.Fatalf("store test value: %v", err)
				}
			}

			b, err := cache.Get(ctx, tt.tenant, tt.revision)
			if !errors.Is(err, ErrMiss) {
				t.Errorf("Get(%q, %d) = %v, %v; want an error wrapping ErrMiss", tt.tenant, tt.revision, b, err)
			}
		})
	}

	if _, err := cache.Get(ctx, "acme", 1); err != nil {
		t.Errorf("Get() of a good bundle after misses error = %v, want nil: a miss must not pause Redis", err)
	}
}

// deadRedisURL returns a redis URL on a loopback port where nothing listens.
func deadRedisURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "redis://" + addr + "/0"
}

func TestUnreachableRedisPauses(t *testing.T) {
	cache, err := Open(Options{URL: deadRedisURL(t), Timeout: 100 * time.Millisecond, Pause: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer cache.Close()
	ctx := context.Background()

	started := time.Now()
	if _, err := cache.Get(ctx, "acme", 1); !errors.Is(err, ErrMiss) {
		t.Fatalf("Get() error = %v, want ErrMiss", err)
	}
	if elapsed := time.Since(started); elapsed > time.Second {
		t.Errorf("first Get() took %s, want at most about the 100ms timeout", elapsed)
	}

	if !cache.paused() {
		t.Fatal("cache not paused after a failed call")
	}
	_, err = cache.Get(ctx, "acme", 1)
	if !errors.Is(err, ErrMiss) || !strings.Contains(err.Error(), "paused") {
		t.Errorf("Get() during the pause error = %v, want a paused ErrMiss", err)
	}
	cache.Put(ctx, sealed(t, "acme", 1))

	time.Sleep(350 * time.Millisecond)
	if cache.paused() {
		t.Error("cache still paused after the pause ended")
	}
}

// TestRecoversAfterPause records a failure, checks that calls skip Redis
// during the pause, and that they reach Redis again after it.
func TestRecoversAfterPause(t *testing.T) {
	cache, _ := openTest(t, Options{Pause: 200 * time.Millisecond})
	ctx := context.Background()

	cache.fail("get", "acme", 1, errors.New("simulated failure"))
	cache.Put(ctx, sealed(t, "acme", 1))
	if _, err := cache.Get(ctx, "acme", 1); !errors.Is(err, ErrMiss) {
		t.Fatalf("Get() during the pause error = %v, want ErrMiss", err)
	}

	time.Sleep(250 * time.Millisecond)
	cache.Put(ctx, sealed(t, "acme", 1))
	if _, err := cache.Get(ctx, "acme", 1); err != nil {
		t.Errorf("Get() after the pause error = %v, want the bundle", err)
	}
}

func TestOpenRejectsBadURL(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notanumber"} {
		if _, err := Open(Options{URL: url}); err == nil {
			t.Errorf("Open(%q) error = nil, want an error", url)
		}
	}
}
