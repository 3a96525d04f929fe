package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// BindingTester runs a plugin version's test vectors with a binding's
// config, as the edge's pre-flight does: the vectors marked binding_config
// run with config, the others with their own. An *UnavailableError means
// the vectors did not run, and the store returns it as it is.
type BindingTester func(ctx context.Context, name, version, source string, vectors, config json.RawMessage) error

// bindingWriteAttempts bounds the writes of one binding whose version or
// config another writer changed while its vectors ran.
const bindingWriteAttempts = 3

// bindingVectorsTimeout bounds the test vectors of one binding write, as
// the edge's pre-flight bounds those of a bundle.
const bindingVectorsTimeout = 10 * time.Second

// checkedBinding is a plugin version and binding config whose test vectors
// passed together.
type checkedBinding struct {
	versionID uint
	config    string
}

// vectorsPending stops a binding write whose version has vectors marked
// binding_config that have not run with the binding's config yet. The
// write rolls back, the vectors run outside the transaction, and the write
// runs again.
type vectorsPending struct {
	version *pluginVersionRow
	config  json.RawMessage
}

func (e *vectorsPending) Error() string {
	return fmt.Sprintf("test vectors of plugin %q version %q have not run with the binding's config", e.version.Name, e.version.Version)
}

// checkBindingVectors returns a *vectorsPending when version has vectors
// marked binding_config that are not in the CheckedBindings of ctx with
// config. It returns nil when the version has none, when the store has no
// BindingTester, and when ctx has no CheckedBindings, as in a Batch that
// leaves the check to the edge's pre-flight.
func (s *Store) checkBindingVectors(ctx context.Context, version *pluginVersionRow, config json.RawMessage) error {
	if !s.vectorsUnchecked(ctx, version, config) {
		return nil
	}
	return &vectorsPending{version: version, config: config}
}

// vectorsUnchecked reports whether version has vectors marked
// binding_config that must run with config before a write stores them
// together, under the rules of checkBindingVectors.
func (s *Store) vectorsUnchecked(ctx context.Context, version *pluginVersionRow, config json.RawMessage) bool {
	if s.bindingTester == nil || !hasBindingVectors(version.TestVectors) {
		return false
	}
	passed, ok := ctx.Value(checkedBindingsKey{}).(*CheckedBindings)
	return ok && !passed.has(checkedBinding{versionID: version.ID, config: string(config)})
}

// CheckedBindings is the set of plugin versions and binding configs whose
// vectors passed during one Batch of several attempts, such as an apply.
// It is safe for concurrent use.
type CheckedBindings struct {
	mu     sync.Mutex
	passed map[checkedBinding]bool
}

// NewCheckedBindings returns an empty set.
func NewCheckedBindings() *CheckedBindings {
	return &CheckedBindings{passed: map[checkedBinding]bool{}}
}

func (c *CheckedBindings) has(key checkedBinding) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.passed[key]
}

func (c *CheckedBindings) add(key checkedBinding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.passed[key] = true
}

type checkedBindingsKey struct{}

// WithCheckedBindings returns ctx for a Batch whose binding writes stop at
// vectors marked binding_config that are not in checked. The batch then
// fails, and RunPendingVectors runs them for the next attempt.
func WithCheckedBindings(ctx context.Context, checked *CheckedBindings) context.Context {
	return context.WithValue(ctx, checkedBindingsKey{}, checked)
}

// RunPendingVectors runs, outside any transaction, the vectors that
// stopped a binding write, an install move or a Batch with err, and adds
// them to checked when they pass. It returns false when err is no such
// stop. A failing vector of a binding write is a field error on config
// that names it. One of an install move is a *followerRejected, whose
// field errors are on the config of the binding that follows the install.
func (s *Store) RunPendingVectors(ctx context.Context, err error, checked *CheckedBindings) (bool, error) {
	var followers *followersPending
	if errors.As(err, &followers) {
		return true, s.runFollowerVectors(ctx, followers, checked)
	}

	var pending *vectorsPending
	if !errors.As(err, &pending) {
		return false, nil
	}
	if err := s.runBindingVectors(ctx, pending); err != nil {
		return true, err
	}
	checked.add(checkedBinding{versionID: pending.version.ID, config: string(pending.config)})
	return true, nil
}

// hasBindingVectors reports whether vectors, a JSON array, has a vector
// marked binding_config.
func hasBindingVectors(vectors string) bool {
	var marks []struct {
		BindingConfig bool `json:"binding_config"`
	}
	if err := json.Unmarshal([]byte(vectors), &marks); err != nil {
		return false
	}
	for _, mark := range marks {
		if mark.BindingConfig {
			return true
		}
	}
	return false
}

// withBindingChecks returns ctx with a new CheckedBindings for a binding
// write outside a Batch, and ctx as it is otherwise: a Batch's caller
// brings its own set or none.
func withBindingChecks(ctx context.Context) context.Context {
	if _, batched := ctx.Value(batchKey{}).(*batch); batched {
		return ctx
	}
	return WithCheckedBindings(ctx, NewCheckedBindings())
}

// writeBinding runs apply, a write of a binding or of an install that
// moves the bindings that follow it, in writeTenant, with ctx from
// withBindingChecks. When apply stops at vectors that must run first,
// writeBinding runs them outside the transaction and writes again, so a
// config that fails them is rejected before it is stored. A failing vector
// is an error from RunPendingVectors. In a Batch the vectors must not run
// inside its transaction, so the stop goes to the batch's caller
// (RunPendingVectors).
func (s *Store) writeBinding(ctx context.Context, slug string, apply func(tx *gorm.DB, tenant *tenantRow) (change, error)) error {
	passed, outside := ctx.Value(checkedBindingsKey{}).(*CheckedBindings)
	if _, batched := ctx.Value(batchKey{}).(*batch); batched {
		outside = false
	}

	for range bindingWriteAttempts {
		_, err := s.writeTenant(ctx, slug, apply)
		if !outside {
			return err
		}
		ran, vectorErr := s.RunPendingVectors(ctx, err, passed)
		if !ran {
			return err
		}
		if vectorErr != nil {
			return vectorErr
		}
	}
	return conflict("the plugin version or the config of a binding changed while its test vectors ran: send the request again")
}

// runBindingVectors runs the vectors of pending with its config, within
// bindingVectorsTimeout.
func (s *Store) runBindingVectors(ctx context.Context, pending *vectorsPending) error {
	version := pending.version
	err := s.testBindingConfig(ctx, version, pending.config)
	if err == nil {
		return nil
	}

	if unavailable := asUnavailable(err); unavailable != nil {
		return unavailable
	}
	var vectorErr *VectorError
	if errors.As(err, &vectorErr) {
		return fieldError("config", "test vector %q of plugin %q version %q fails with this config: %s: change the config, or bind another version",
			vectorErr.Vector, version.Name, version.Version, strings.Join(vectorErr.Differences, "; "))
	}
	return fieldError("config", "test vectors of plugin %q version %q could not run with this config: %v", version.Name, version.Version, err)
}

// testBindingConfig runs the vectors of version with a binding's config,
// within bindingVectorsTimeout, and returns the BindingTester's error.
func (s *Store) testBindingConfig(ctx context.Context, version *pluginVersionRow, config json.RawMessage) error {
	ctx, cancel := context.WithTimeout(ctx, bindingVectorsTimeout)
	defer cancel()
	return s.bindingTester(ctx, version.Name, version.Version, version.Source, json.RawMessage(version.TestVectors), config)
}
