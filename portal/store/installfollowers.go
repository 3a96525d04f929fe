package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// follower is a binding that follows an install, with its config.
type follower struct {
	binding string
	config  json.RawMessage
}

// followersPending stops an install move whose new version has vectors
// marked binding_config that have not run with the configs of the bindings
// that follow the install. The move rolls back, the vectors run outside
// the transaction for every listed config at once, and the move runs
// again.
type followersPending struct {
	version   *pluginVersionRow
	followers []follower
}

func (e *followersPending) Error() string {
	return fmt.Sprintf("test vectors of plugin %q version %q have not run with the configs of %d bindings that follow the install",
		e.version.Name, e.version.Version, len(e.followers))
}

// add lists the follower unless a listed one has the same config, whose
// vectors give the same result.
func (e *followersPending) add(binding string, config json.RawMessage) {
	for _, listed := range e.followers {
		if string(listed.config) == string(config) {
			return
		}
	}
	e.followers = append(e.followers, follower{binding: binding, config: config})
}

// followerRejected reports a binding that follows an install and whose
// config the version that the install would move to rejects, by its
// config_schema or by a test vector marked binding_config. Unwrap returns
// field errors on the binding's config, such as
// "bindings.bnd_0123456789abcdef.config.greeting", so an API call that
// moves the install fails with 422 on them.
type followerRejected struct {
	binding string
	version *pluginVersionRow
	// vector names the failing test vector. It is empty for a schema
	// mismatch and for vectors that could not run.
	vector string
	// bySchema marks a config that does not match the version's schema.
	bySchema bool
	// reason describes what failed, in English: the vector's differences, the
	// schema errors, or why the vectors could not run.
	reason string
	fields []error
}

func (e *followerRejected) Error() string {
	return errors.Join(e.fields...).Error()
}

func (e *followerRejected) Unwrap() []error {
	return e.fields
}

// followerField returns the field of a following binding's config in an
// install's field errors.
func followerField(binding string) string {
	return "bindings." + binding + ".config"
}

// moveFollowingBindings points the tenant's bindings that follow the
// plugin's install at version. Each config must match the version's schema,
// else the move fails with a *followerRejected. When the version has
// vectors marked binding_config that have not run with some of the
// configs, the move stops with a *followersPending that lists them all.
func (s *Store) moveFollowingBindings(ctx context.Context, tx *gorm.DB, tenant *tenantRow, plugin string, version *pluginVersionRow) error {
	views, err := listBindingViews(tx, tenant)
	if err != nil {
		return err
	}
	schema, err := compileSchema(version.ConfigSchema)
	if err != nil {
		return fmt.Errorf("compile stored config schema of %q: %w", bundle.Key(version.Name, version.Version), err)
	}

	pending := &followersPending{version: version}
	var ids []uint
	for i := range views {
		view := &views[i]
		if !view.FollowsInstall || view.Plugin != plugin {
			continue
		}
		bindingConfig := json.RawMessage(view.Config)
		if err := validateConfig(schema, bindingConfig); err != nil {
			return rejectBySchema(view.PublicID, version, err)
		}
		if s.vectorsUnchecked(ctx, version, bindingConfig) {
			pending.add(view.PublicID, bindingConfig)
		}
		ids = append(ids, view.ID)
	}
	if len(pending.followers) > 0 {
		return pending
	}
	if len(ids) == 0 {
		return nil
	}

	if err := tx.Model(&bindingRow{}).Where("id IN ?", ids).Update("plugin_version_id", version.ID).Error; err != nil {
		return fmt.Errorf("move bindings of plugin %q in tenant %q: %w", plugin, tenant.Slug, err)
	}
	return nil
}

// rejectBySchema returns the *followerRejected of a binding whose config
// does not match the version's schema, with each field error of err moved
// under the binding. An err without field errors, such as a failed
// validator, is returned as it is.
func rejectBySchema(binding string, version *pluginVersionRow, err error) error {
	var fields []error
	var reasons []string
	for _, inner := range flattenErrors(err) {
		var field *config.FieldError
		if !errors.As(inner, &field) {
			return fmt.Errorf("check config of binding %q against version %q: %w", binding, version.Version, err)
		}
		moved := *field
		moved.Field = "bindings." + binding + "." + field.Field
		fields = append(fields, &moved)
		reasons = append(reasons, field.Error())
	}
	return &followerRejected{binding: binding, version: version, bySchema: true, reason: strings.Join(reasons, "; "), fields: fields}
}

// flattenErrors returns the errors of an errors.Join list, or err alone.
func flattenErrors(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

// runFollowerVectors runs the vectors of pending with each listed config
// that checked lacks, and adds each config that passes to checked. The
// first config that fails ends the run with a *followerRejected.
func (s *Store) runFollowerVectors(ctx context.Context, pending *followersPending, checked *CheckedBindings) error {
	version := pending.version
	for _, follower := range pending.followers {
		key := checkedBinding{versionID: version.ID, config: string(follower.config)}
		if checked.has(key) {
			continue
		}
		if err := s.testBindingConfig(ctx, version, follower.config); err != nil {
			return rejectByVectors(follower.binding, version, err)
		}
		checked.add(key)
	}
	return nil
}

// rejectByVectors returns the *followerRejected of a binding whose config
// fails the version's vectors with err, the BindingTester's error.
func rejectByVectors(binding string, version *pluginVersionRow, err error) *followerRejected {
	rejected := &followerRejected{binding: binding, version: version}
	field := followerField(binding)

	var vectorErr *VectorError
	if errors.As(err, &vectorErr) {
		rejected.vector = vectorErr.Vector
		rejected.reason = strings.Join(vectorErr.Differences, "; ")
		rejected.fields = []error{fieldError(field, "test vector %q of plugin %q version %q fails with this binding's config: %s: change the config, or pin the binding to the version it runs now",
			vectorErr.Vector, version.Name, version.Version, rejected.reason)}
		return rejected
	}

	rejected.reason = err.Error()
	rejected.fields = []error{fieldError(field, "test vectors of plugin %q version %q could not run with this binding's config: %v", version.Name, version.Version, err)}
	return rejected
}
