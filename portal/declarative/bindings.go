package declarative

import (
	"context"
	"fmt"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// bindingKey is the identity of a binding without an id in a document: its
// plugin and scope.
type bindingKey struct {
	plugin, route, consumer string
}

func keyOf(b config.Binding) bindingKey {
	return bindingKey{plugin: b.Plugin, route: b.Route, consumer: b.Consumer}
}

// planBindings matches each desired binding to a current one, by id when
// the document gives one, and otherwise to the first unmatched current
// binding of the same plugin and scope. Matched bindings that differ are
// updated in place, so their ids stay; the rest are created or deleted.
//
// Unless allowTrusted, a binding may name the trusted tier only when it is
// already in it, because only the operator moves code into the edge process.
func planBindings(current, desired []config.Binding, allowTrusted bool) (writes, deletes []Step, err error) {
	byID := make(map[string]int, len(current))
	for i, binding := range current {
		byID[binding.ID] = i
	}

	matched := make([]bool, len(current))
	match := make([]int, len(desired))
	for i, binding := range desired {
		match[i] = -1
		if binding.ID == "" {
			continue
		}
		at, found := byID[binding.ID]
		if !found {
			return nil, nil, config.Invalid(fmt.Sprintf("bindings[%d].id", i), "binding %q does not exist: remove the id to create a new binding", binding.ID)
		}
		if matched[at] {
			return nil, nil, config.Invalid(fmt.Sprintf("bindings[%d].id", i), "binding %q is listed twice: list each binding once", binding.ID)
		}
		if plugin := current[at].Plugin; plugin != binding.Plugin {
			return nil, nil, config.Invalid(fmt.Sprintf("bindings[%d].plugin", i), "binding %q runs plugin %q, not %q: remove the id to replace it with a new binding", binding.ID, plugin, binding.Plugin)
		}
		matched[at], match[i] = true, at
	}
	for i, binding := range desired {
		if match[i] >= 0 {
			continue
		}
		for at, candidate := range current {
			if !matched[at] && keyOf(candidate) == keyOf(binding) {
				matched[at], match[i] = true, at
				break
			}
		}
	}

	for i, binding := range desired {
		if binding.Tier == config.TierTrusted && !allowTrusted && (match[i] < 0 || current[match[i]].Tier != config.TierTrusted) {
			return nil, nil, config.Invalid(fmt.Sprintf("bindings[%d].tier", i), `tier "trusted" is for the operator only: leave tier empty or use "sandboxed"`)
		}
		step, ok := bindingWrite(i, binding, current, match[i])
		if ok {
			writes = append(writes, step)
		}
	}
	for at, binding := range current {
		if !matched[at] {
			id := binding.ID
			deletes = append(deletes, Step{
				Action: actionDelete, Resource: "binding/" + id, Before: stepJSON(binding),
				run: func(ctx context.Context, s *store.Store, slug string) error { return s.DeleteBinding(ctx, slug, id) },
			})
		}
	}
	return writes, deletes, nil
}

// bindingWrite returns the step for desired binding i, matched to
// current[at] or to none when at is -1, and false when nothing changes.
func bindingWrite(i int, binding config.Binding, current []config.Binding, at int) (Step, bool) {
	path := fmt.Sprintf("bindings[%d]", i)
	binding = normalizeBinding(binding)

	if at < 0 {
		binding.ID = ""
		return Step{
			Action: actionCreate, Resource: "binding/new", After: stepJSON(binding),
			run: func(ctx context.Context, s *store.Store, slug string) error {
				_, err := s.CreateBinding(ctx, slug, binding)
				return prefixField(path, err)
			},
		}, true
	}

	before := normalizeBinding(current[at])
	binding.ID = before.ID
	if sameResource(before, binding) {
		return Step{}, false
	}
	patch := fullPatch(binding)
	id := before.ID
	return Step{
		Action: actionUpdate, Resource: "binding/" + id, Before: stepJSON(before), After: stepJSON(binding),
		run: func(ctx context.Context, s *store.Store, slug string) error {
			_, err := s.UpdateBinding(ctx, slug, id, patch)
			return prefixField(path, err)
		},
	}, true
}

// normalizeBinding makes equal bindings compare equal: enabled true is the
// default, and an absent config is {}.
func normalizeBinding(b config.Binding) config.Binding {
	if b.Enabled != nil && *b.Enabled {
		b.Enabled = nil
	}
	if len(b.Config) == 0 || string(b.Config) == "null" {
		b.Config = []byte("{}")
	}
	return b
}

// fullPatch returns a patch that sets every field of a binding but its
// plugin.
func fullPatch(b config.Binding) store.BindingPatch {
	enabled := b.IsEnabled()
	hosts := b.AllowHosts
	if hosts == nil {
		hosts = []string{}
	}
	return store.BindingPatch{
		Version:       &b.Version,
		Route:         &b.Route,
		Consumer:      &b.Consumer,
		Config:        b.Config,
		Priority:      b.Priority,
		ClearPriority: b.Priority == nil,
		TimeoutMS:     &b.TimeoutMS,
		OnError:       &b.OnError,
		Enabled:       &enabled,
		AllowHosts:    &hosts,
	}
}
