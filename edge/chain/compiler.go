// Package chain compiles the plugins of a tenant's bindings and runs them
// around a proxied request.
package chain

import (
	"container/list"
	"crypto/ed25519"
	"fmt"
	"sync"
	"sync/atomic"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/tenants/bundle"
)

// DefaultCompiledPlugins is the number of compiled plugin versions that a
// Compiler keeps when NewCompiler gets zero.
const DefaultCompiledPlugins = 1024

// Compiler compiles plugin sources and keeps the results, so that a plugin
// version used by many tenants and revisions is compiled once. Entries are
// keyed by name, version and source hash, and the least recently used entry
// is dropped once the Compiler holds more than its limit. Dropping an entry
// only costs a compile later, because runtimes keep their own references. It
// is safe for concurrent use.
type Compiler struct {
	mu       sync.Mutex
	limit    int
	entries  map[string]*list.Element
	recency  *list.List
	compiles atomic.Int64
	// publicKey verifies plugin signatures when not nil.
	publicKey ed25519.PublicKey
}

// compiled is one cache entry. done is closed once plugin and err are set, so
// concurrent callers for the same key wait for one compile.
type compiled struct {
	key    string
	done   chan struct{}
	plugin *pluginhost.Plugin
	err    error
}

// NewCompiler returns a Compiler that keeps up to limit compiled plugin
// versions. Zero or less means DefaultCompiledPlugins.
func NewCompiler(limit int) *Compiler {
	if limit <= 0 {
		limit = DefaultCompiledPlugins
	}
	return &Compiler{limit: limit, entries: map[string]*list.Element{}, recency: list.New()}
}

// Compile returns the compiled plugin for code, compiling it on first use.
// It rejects code whose source does not match its SHA256, and does not keep
// failed compiles.
func (c *Compiler) Compile(code bundle.PluginCode) (*pluginhost.Plugin, error) {
	if sum := bundle.SourceHash(code.Source); sum != code.SHA256 {
		return nil, fmt.Errorf("plugin %q version %q: source hash %q does not match the declared %q", code.Name, code.Version, sum, code.SHA256)
	}
	if err := c.Verify(code); err != nil {
		return nil, err
	}

	entry, owner := c.entry(code.Name + "@" + code.Version + "@" + code.SHA256)
	if !owner {
		<-entry.done
		return entry.plugin, entry.err
	}

	c.compiles.Add(1)
	entry.plugin, entry.err = pluginhost.Compile(code.Name, code.Version, code.Source)
	if entry.err != nil {
		entry.err = fmt.Errorf("compile plugin %q version %q: %w", code.Name, code.Version, entry.err)
		c.forget(entry)
	}
	close(entry.done)
	return entry.plugin, entry.err
}

// RequireSignatures makes Compile and Verify reject plugin code whose
// portal signature does not verify under key. Call it before the Compiler
// is shared.
func (c *Compiler) RequireSignatures(key ed25519.PublicKey) {
	c.publicKey = key
}

// Verify checks code's signature when RequireSignatures set a key, and
// returns nil otherwise. The signature covers the name, the version and the
// source hash, so Verify also checks that the hash matches the source.
func (c *Compiler) Verify(code bundle.PluginCode) error {
	if c.publicKey == nil {
		return nil
	}
	if sum := bundle.SourceHash(code.Source); sum != code.SHA256 {
		return fmt.Errorf("plugin %q version %q: source hash %q does not match the declared %q", code.Name, code.Version, sum, code.SHA256)
	}
	return signing.Verify(c.publicKey, code.Name, code.Version, code.SHA256, code.Signature)
}

// Compiles returns how many times the Compiler has called pluginhost.Compile.
func (c *Compiler) Compiles() int64 {
	return c.compiles.Load()
}

// entry returns the cache entry for key. owner is true when the caller
// created it and must compile.
func (c *Compiler) entry(key string) (entry *compiled, owner bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if element, ok := c.entries[key]; ok {
		c.recency.MoveToFront(element)
		return element.Value.(*compiled), false
	}

	entry = &compiled{key: key, done: make(chan struct{})}
	c.entries[key] = c.recency.PushFront(entry)
	for c.recency.Len() > c.limit {
		oldest := c.recency.Back()
		c.recency.Remove(oldest)
		delete(c.entries, oldest.Value.(*compiled).key)
	}
	return entry, true
}

// forget drops entry, unless eviction already replaced it with a newer one.
func (c *Compiler) forget(entry *compiled) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if element, ok := c.entries[entry.key]; ok && element.Value == entry {
		c.recency.Remove(element)
		delete(c.entries, entry.key)
	}
}
