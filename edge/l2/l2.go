// Package l2 shares tenant bundles between the edges of one region through
// Redis. A bundle is keyed by tenant and revision and never changes, so a
// hit is never stale. Any Redis failure is a miss: callers go to the portal.
package l2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/tenants/bundle"
)

// Defaults of Options fields left zero.
const (
	// DefaultTTL is how long a bundle stays in Redis after its last write.
	DefaultTTL = 24 * time.Hour
	// DefaultTimeout bounds one Redis call, so an unreachable Redis adds
	// at most this much to a load.
	DefaultTimeout = 250 * time.Millisecond
	// DefaultPause is how long the cache skips Redis after a failed call,
	// so an outage costs one timeout per pause, not one per load.
	DefaultPause = 2 * time.Second
)

// Options configure a Cache.
type Options struct {
	// URL is a redis:// URL, such as "redis://127.0.0.1:6379/11".
	URL     string
	TTL     time.Duration
	Timeout time.Duration
	Pause   time.Duration
	Logger  *slog.Logger
}

// Cache is the Redis L2 of bundles. It is safe for concurrent use.
type Cache struct {
	client *redis.Client
	opts   Options
	// pausedUntil is the UnixNano time before which calls are skipped.
	pausedUntil atomic.Int64
}

// Open parses the URL and returns a Cache. It does not contact Redis, so an
// edge starts while Redis is down.
func Open(opts Options) (*Cache, error) {
	parsed, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("parse redis URL: %w", err)
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Pause <= 0 {
		opts.Pause = DefaultPause
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	parsed.DialTimeout = opts.Timeout
	parsed.ReadTimeout = opts.Timeout
	parsed.WriteTimeout = opts.Timeout
	parsed.MaxRetries = 0
	return &Cache{client: redis.NewClient(parsed), opts: opts}, nil
}

// Close closes the connections.
func (c *Cache) Close() error {
	return c.client.Close()
}

// Key returns the Redis key of a tenant's bundle at a revision.
func Key(tenant string, revision int64) string {
	return "portcullis:bundle:" + tenant + ":" + strconv.FormatInt(revision, 10)
}

// ErrMiss reports that Redis has no usable bundle, or did not answer.
var ErrMiss = errors.New("l2 miss")

// Get returns the tenant's bundle at the revision. Any failure, a missing
// key and a bundle whose hash does not match return an error wrapping
// ErrMiss.
func (c *Cache) Get(ctx context.Context, tenant string, revision int64) (*bundle.Bundle, error) {
	if c.paused() {
		return nil, fmt.Errorf("redis paused after a failure: %w", ErrMiss)
	}

	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()

	data, err := c.client.Get(ctx, Key(tenant, revision)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("no bundle of tenant %q revision %d: %w", tenant, revision, ErrMiss)
	}
	if err != nil {
		c.fail("get", tenant, revision, err)
		return nil, fmt.Errorf("get bundle of tenant %q revision %d: %w: %w", tenant, revision, ErrMiss, err)
	}

	var b bundle.Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("decode bundle of tenant %q revision %d: %w: %w", tenant, revision, ErrMiss, err)
	}
	if b.Tenant != tenant || b.Revision != revision || b.Verify() != nil {
		return nil, fmt.Errorf("bundle of tenant %q revision %d in redis does not match its key or hash: %w", tenant, revision, ErrMiss)
	}
	return &b, nil
}

// Put stores the bundle under its tenant and revision with the TTL. A
// failure is logged and otherwise ignored.
func (c *Cache) Put(ctx context.Context, b *bundle.Bundle) {
	if c.paused() {
		return
	}

	data, err := json.Marshal(b)
	if err != nil {
		return
	}

	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if err := c.client.Set(ctx, Key(b.Tenant, b.Revision), data, c.opts.TTL).Err(); err != nil {
		c.fail("set", b.Tenant, b.Revision, err)
	}
}

func (c *Cache) paused() bool {
	return time.Now().UnixNano() < c.pausedUntil.Load()
}

// fail pauses Redis calls and logs the first failure of a pause.
func (c *Cache) fail(op, tenant string, revision int64, err error) {
	wasPaused := c.paused()
	c.pausedUntil.Store(time.Now().Add(c.opts.Pause).UnixNano())

	if !wasPaused {
		c.opts.Logger.Warn("redis call failed; using the portal directly for a while",
			"operation", op, "tenant", tenant, "revision", revision, "pause", c.opts.Pause.String(), "error", err)
	}
}
