// Package hostsvc implements pluginhost.Host for the edge: a per-tenant
// key-value store and local rate limiter in memory, a Redis rate limiter,
// outbound HTTP restricted to a binding's allowed hosts and to public
// addresses, and rate-limited, size-limited plugin logs.
package hostsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/tenants/netguard"
)

// Per-tenant bounds of the in-memory state.
const (
	MaxKeys        = 10000
	MaxKeyLength   = 256
	MaxValueLength = 8 << 10
)

// Services are the host services of one edge. It hands each tenant its own
// state, so no tenant can read another's keys or counters.
type Services struct {
	log   *slog.Logger
	redis *redis.Client
	// outboundGuard checks each address that plugins' outbound requests
	// connect to.
	outboundGuard netguard.Guard
	outbound      *http.Client

	mu      sync.Mutex
	tenants map[string]*Tenant
}

// New returns the services of an edge. redisClient may be nil, and then
// ctx.limit.redis raises an error. Without WithOutboundAllow, plugins'
// outbound requests reach public addresses only.
func New(logger *slog.Logger, redisClient *redis.Client, options ...Option) *Services {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Services{log: logger, redis: redisClient, tenants: map[string]*Tenant{}}
	s.outboundGuard = netguard.Guard{Subject: "plugins", Setting: outboundAllowSetting}
	local, err := netguard.LocalAddresses()
	if err != nil {
		logger.Warn("plugins' outbound requests may reach this machine's public addresses", "error", err)
	}
	s.outboundGuard.Local = local
	for _, option := range options {
		option(s)
	}
	s.outbound = s.newOutboundClient()
	if networks := s.outboundGuard.Networks; len(networks) > 0 {
		logger.Info("plugins' outbound requests may reach these non-public networks", "networks", networks)
	}
	return s
}

// Tenant returns the state of one tenant, creating it on first use.
func (s *Services) Tenant(slug string) *Tenant {
	s.mu.Lock()
	defer s.mu.Unlock()

	t, ok := s.tenants[slug]
	if !ok {
		t = &Tenant{slug: slug, services: s, entries: map[string]entry{}, logged: map[string]*logState{}}
		s.tenants[slug] = t
	}
	return t
}

// Tenant is one tenant's key-value store, counters and log limits.
type Tenant struct {
	slug     string
	services *Services

	mu      sync.Mutex
	entries map[string]entry
	logged  map[string]*logState
}

type entry struct {
	value   any
	expires time.Time
}

func (t *Tenant) get(key string, now time.Time) (entry, bool) {
	e, ok := t.entries[key]
	if ok && !e.expires.IsZero() && !now.Before(e.expires) {
		delete(t.entries, key)
		return entry{}, false
	}
	return e, ok
}

// put stores e, first dropping expired entries when the tenant is full.
func (t *Tenant) put(key string, e entry, now time.Time) error {
	if _, exists := t.entries[key]; !exists && len(t.entries) >= MaxKeys {
		for k, old := range t.entries {
			if !old.expires.IsZero() && !now.Before(old.expires) {
				delete(t.entries, k)
			}
		}
		if len(t.entries) >= MaxKeys {
			return fmt.Errorf("the tenant's store is full at %d keys: delete keys or set a ttl", MaxKeys)
		}
	}
	t.entries[key] = e
	return nil
}

func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLength {
		return fmt.Errorf("key must be 1 to %d bytes, got %d", MaxKeyLength, len(key))
	}
	// The host keeps its own entries, such as rate-limit counters, under
	// keys that start with a control character, out of a script's reach.
	if i := strings.IndexFunc(key, unicode.IsControl); i >= 0 {
		return fmt.Errorf("key %q contains a control character at byte %d: use printable text", key, i)
	}
	return nil
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// Request returns the pluginhost.Host of one request of the tenant. body
// reads the request body, and may be nil when it has none.
func (t *Tenant) Request(body func(limit int) ([]byte, error)) pluginhost.Host {
	return &requestHost{tenant: t, body: body}
}

// requestHost serves the host API for one request.
type requestHost struct {
	tenant *Tenant
	body   func(limit int) ([]byte, error)
	// fetches counts the request's ctx.http calls in all phases, which the
	// edge's worker connections may make from several goroutines.
	fetches atomic.Int64
}

// KVGet finds no value for a key that KVSet would reject, such as one of
// the host's own counters.
func (h *requestHost) KVGet(key string) (any, bool) {
	if checkKey(key) != nil {
		return nil, false
	}
	t := h.tenant
	t.mu.Lock()
	defer t.mu.Unlock()

	e, ok := t.get(key, time.Now())
	return e.value, ok
}

func (h *requestHost) KVSet(key string, value any, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("encode value of key %q: %w", key, err)
	}
	if len(encoded) > MaxValueLength {
		return fmt.Errorf("value of key %q is %d bytes as JSON, above the limit of %d", key, len(encoded), MaxValueLength)
	}

	t := h.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	return t.put(key, entry{value: value, expires: expiry(now, ttl)}, now)
}

// KVDelete leaves a key that KVSet would reject alone.
func (h *requestHost) KVDelete(key string) {
	if checkKey(key) != nil {
		return
	}
	t := h.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

func (h *requestHost) KVIncr(key string, by int64, ttl time.Duration) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}

	t := h.tenant
	t.mu.Lock()
	defer t.mu.Unlock()

	now := time.Now()
	e, ok := t.get(key, now)
	current := int64(0)
	if ok {
		number, isInt := e.value.(int64)
		if !isInt {
			return 0, fmt.Errorf("key %q contains a %T, not an int: use a counter key", key, e.value)
		}
		current = number
	} else {
		e.expires = expiry(now, ttl)
	}
	sum := current + by
	if (by > 0 && sum < current) || (by < 0 && sum > current) {
		return 0, fmt.Errorf("counter %q at %d cannot change by %d: the result is outside the 64-bit range", key, current, by)
	}
	e.value = sum
	return sum, t.put(key, e, now)
}

func (h *requestHost) Limit(ctx context.Context, backend, key string, limit int64, window time.Duration) (pluginhost.LimitResult, error) {
	if err := checkKey(key); err != nil {
		return pluginhost.LimitResult{}, err
	}
	switch backend {
	case "local":
		return h.localLimit(key, limit, window), nil
	case "redis":
		return h.redisLimit(ctx, key, limit, window)
	}
	return pluginhost.LimitResult{}, fmt.Errorf("rate-limit backend %q is unknown: use local or redis", backend)
}

// localLimit counts in a fixed window that starts with the key's first
// request, in the tenant's store under a reserved prefix.
func (h *requestHost) localLimit(key string, limit int64, window time.Duration) pluginhost.LimitResult {
	t := h.tenant
	t.mu.Lock()
	defer t.mu.Unlock()

	now := time.Now()
	full := "\x00limit:" + key
	e, ok := t.get(full, now)
	count := int64(1)
	if previous, isCount := e.value.(int64); ok && isCount {
		count = previous + 1
	} else {
		e.expires = now.Add(window)
	}
	e.value = count
	if err := t.put(full, e, now); err != nil {
		// A full store cannot track the key, so the request is allowed.
		return pluginhost.LimitResult{Allowed: true, Limit: limit, Remaining: 0, Reset: window}
	}
	return result(count, limit, e.expires.Sub(now))
}

func result(count, limit int64, reset time.Duration) pluginhost.LimitResult {
	return pluginhost.LimitResult{Allowed: count <= limit, Limit: limit, Remaining: max(limit-count, 0), Reset: reset}
}

// redisWindow increments a key and starts its expiry on the first hit. It
// returns the count and the milliseconds left.
var redisWindow = redis.NewScript(`
local count = redis.call("INCR", KEYS[1])
if count == 1 then
  redis.call("PEXPIRE", KEYS[1], ARGV[1])
end
return {count, redis.call("PTTL", KEYS[1])}
`)

func (h *requestHost) redisLimit(ctx context.Context, key string, limit int64, window time.Duration) (pluginhost.LimitResult, error) {
	client := h.tenant.services.redis
	if client == nil {
		return pluginhost.LimitResult{}, errors.New("no Redis is configured for this edge")
	}

	full := "portcullis:limit:" + h.tenant.slug + ":" + key
	values, err := redisWindow.Run(ctx, client, []string{full}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return pluginhost.LimitResult{}, fmt.Errorf("count key %q in Redis: %w", key, err)
	}
	return result(values[0], limit, time.Duration(max(values[1], 0))*time.Millisecond), nil
}

func (h *requestHost) ReadBody(limit int) ([]byte, error) {
	if h.body == nil {
		return nil, nil
	}
	return h.body(limit)
}

// NewRedisClient returns a client for ctx.limit.redis from a redis:// URL,
// such as "redis://127.0.0.1:6379/11". It does not contact Redis, so an
// edge starts while Redis is down and the calls fail until it is back.
func NewRedisClient(redisURL string) (*redis.Client, error) {
	options, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("parse Redis URL for plugin services: %w", err)
	}
	return redis.NewClient(options), nil
}
