package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// Step actions.
const (
	actionCreate = "create"
	actionUpdate = "update"
	actionDelete = "delete"
)

// plan returns the steps that turn current into desired. Creates and
// updates come first, parents before children (upstreams, routes,
// consumers, bindings), so that a route can move to a new upstream. Deletes
// follow, children first, once nothing refers to what they remove.
func plan(current, desired *Document, allowTrusted bool) ([]Step, error) {
	var writes, deletes []Step

	w, d := planNamed("upstreams", "upstream", current.Upstreams, desired.Upstreams, func(u config.Upstream) string { return u.Name }, upstreamWrites)
	writes, deletes = append(writes, w...), append(d, deletes...)
	w, d = planNamed("routes", "route", current.Routes, desired.Routes, func(r config.Route) string { return r.Name }, routeWrites)
	writes, deletes = append(writes, w...), append(d, deletes...)
	w, d = planNamed("consumers", "consumer", current.Consumers, desired.Consumers, func(c config.Consumer) string { return c.Name }, consumerWrites)
	writes, deletes = append(writes, w...), append(d, deletes...)

	w, d, err := planBindings(current.Bindings, desired.Bindings, allowTrusted)
	if err != nil {
		return nil, err
	}
	writes, deletes = append(writes, w...), append(d, deletes...)
	return append(append([]Step{}, writes...), deletes...), nil
}

// writers are the store calls of one named resource kind.
type writers[T any] struct {
	create func(ctx context.Context, s *store.Store, slug string, item T) error
	update func(ctx context.Context, s *store.Store, slug, name string, item T) error
	delete func(ctx context.Context, s *store.Store, slug, name string) error
}

var upstreamWrites = writers[config.Upstream]{
	create: func(ctx context.Context, s *store.Store, slug string, u config.Upstream) error {
		_, err := s.CreateUpstream(ctx, slug, u)
		return err
	},
	update: func(ctx context.Context, s *store.Store, slug, name string, u config.Upstream) error {
		_, err := s.UpdateUpstream(ctx, slug, name, u)
		return err
	},
	delete: func(ctx context.Context, s *store.Store, slug, name string) error {
		return s.DeleteUpstream(ctx, slug, name)
	},
}

var routeWrites = writers[config.Route]{
	create: func(ctx context.Context, s *store.Store, slug string, r config.Route) error {
		_, err := s.CreateRoute(ctx, slug, r)
		return err
	},
	update: func(ctx context.Context, s *store.Store, slug, name string, r config.Route) error {
		_, err := s.UpdateRoute(ctx, slug, name, r)
		return err
	},
	delete: func(ctx context.Context, s *store.Store, slug, name string) error {
		return s.DeleteRoute(ctx, slug, name)
	},
}

var consumerWrites = writers[config.Consumer]{
	create: func(ctx context.Context, s *store.Store, slug string, c config.Consumer) error {
		_, err := s.CreateConsumer(ctx, slug, c)
		return err
	},
	update: func(ctx context.Context, s *store.Store, slug, name string, c config.Consumer) error {
		_, err := s.UpdateConsumer(ctx, slug, name, c)
		return err
	},
	delete: func(ctx context.Context, s *store.Store, slug, name string) error {
		return s.DeleteConsumer(ctx, slug, name)
	},
}

// planNamed plans one kind of resource that is identified by its name.
func planNamed[T any](field, kind string, current, desired []T, name func(T) string, write writers[T]) (writes, deletes []Step) {
	existing := make(map[string]T, len(current))
	for _, item := range current {
		existing[name(item)] = item
	}

	desiredNames := make(map[string]bool, len(desired))
	for i, item := range desired {
		key := name(item)
		desiredNames[key] = true
		before, found := existing[key]
		step := Step{Resource: kind + "/" + key, After: stepJSON(item)}

		switch {
		case !found:
			step.Action = actionCreate
			step.run = func(ctx context.Context, s *store.Store, slug string) error {
				return prefixField(fmt.Sprintf("%s[%d]", field, i), write.create(ctx, s, slug, item))
			}
		case !sameResource(before, item):
			step.Action, step.Before = actionUpdate, stepJSON(before)
			step.run = func(ctx context.Context, s *store.Store, slug string) error {
				return prefixField(fmt.Sprintf("%s[%d]", field, i), write.update(ctx, s, slug, key, item))
			}
		default:
			continue
		}
		writes = append(writes, step)
	}

	for _, item := range current {
		key := name(item)
		if desiredNames[key] {
			continue
		}
		deletes = append(deletes, Step{
			Action: actionDelete, Resource: kind + "/" + key, Before: stepJSON(item),
			run: func(ctx context.Context, s *store.Store, slug string) error { return write.delete(ctx, s, slug, key) },
		})
	}
	return writes, deletes
}

// prefixField puts a field error under the document path of its resource,
// such as "routes[2].paths". Another error keeps the path in a
// *pathError, for a field error that comes of it later.
func prefixField(path string, err error) error {
	if err == nil {
		return nil
	}
	var field *config.FieldError
	if errors.As(err, &field) {
		prefixed := *field
		prefixed.Field = path + "." + field.Field
		return &prefixed
	}
	return &pathError{path: path, err: err}
}

// pathError is an error of the store call of the resource at path in the
// document.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.err.Error() }

func (e *pathError) Unwrap() error { return e.err }

// stepPath returns the document path that err carries, or "".
func stepPath(err error) string {
	var located *pathError
	if errors.As(err, &located) {
		return located.path
	}
	return ""
}

// stepJSON returns the JSON of a resource as a step shows it. An
// upstream's TLS client key is a secret that API responses never carry,
// so the step shows client_key_set in its place.
func stepJSON(v any) json.RawMessage {
	if upstream, ok := v.(config.Upstream); ok && upstream.TLS != nil && upstream.TLS.ClientKeyPEM != "" {
		tls := *upstream.TLS
		tls.ClientKeyPEM, tls.ClientKeySet = "", true
		upstream.TLS = &tls
		v = upstream
	}
	return encode(v)
}

func encode(v any) json.RawMessage {
	encoded, _ := json.Marshal(v)
	return encoded
}

// sameResource reports whether two resources have the same content. A
// field left out equals null, "" and an empty list. Every other value
// counts, because zero often means something of its own: enabled false
// disables a binding, priority and retries 0 differ from their defaults,
// and an empty active health check turns checks on. Inside a plugin
// config, an absent field and a zero value differ too.
func sameResource(a, b any) bool {
	return reflect.DeepEqual(canonical(a), canonical(b))
}

func canonical(v any) any {
	var generic any
	_ = json.Unmarshal(encode(v), &generic)
	return prune(generic)
}

// prune drops the values that mean the same as an absent field: null, ""
// and empty lists.
func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for key, value := range v {
			if key != "config" {
				value = prune(value)
			}
			if !isAbsent(value) {
				out[key] = value
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, value := range v {
			out[i] = prune(value)
		}
		return out
	}
	return v
}

func isAbsent(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	}
	return false
}
