package declarative

import (
	"errors"
	"fmt"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// MaxItems caps each list of a document.
const MaxItems = 1000

// validate checks each resource of the document on its own and that names
// are unique, before anything is planned, so an invalid document changes
// nothing. References between resources are checked by the store.
func (d *Document) validate() error {
	if err := checkList("upstreams", len(d.Upstreams)); err != nil {
		return err
	}
	if err := checkList("routes", len(d.Routes)); err != nil {
		return err
	}
	if err := checkList("consumers", len(d.Consumers)); err != nil {
		return err
	}
	if err := checkList("bindings", len(d.Bindings)); err != nil {
		return err
	}

	upstreams := make([]string, len(d.Upstreams))
	for i := range d.Upstreams {
		upstreams[i] = d.Upstreams[i].Name
		if err := prefixField(fmt.Sprintf("upstreams[%d]", i), d.Upstreams[i].Validate()); err != nil {
			return err
		}
	}
	routes := make([]string, len(d.Routes))
	for i := range d.Routes {
		routes[i] = d.Routes[i].Name
		if err := prefixField(fmt.Sprintf("routes[%d]", i), d.Routes[i].Validate()); err != nil {
			return err
		}
	}
	consumers := make([]string, len(d.Consumers))
	for i := range d.Consumers {
		consumers[i] = d.Consumers[i].Name
		if err := prefixField(fmt.Sprintf("consumers[%d]", i), d.Consumers[i].Validate()); err != nil {
			return err
		}
	}
	for i := range d.Bindings {
		if err := prefixField(fmt.Sprintf("bindings[%d]", i), store.ValidateBinding(d.Bindings[i])); err != nil {
			return err
		}
	}

	return errors.Join(unique("upstreams", upstreams), unique("routes", routes), unique("consumers", consumers))
}

func checkList(field string, n int) error {
	if n > MaxItems {
		return config.Invalid(field, "%s has %d items, above the limit of %d: split the tenant's config or raise the limit", field, n, MaxItems)
	}
	return nil
}

func unique(field string, names []string) error {
	seen := make(map[string]int, len(names))
	for i, name := range names {
		if first, dup := seen[name]; dup {
			return config.Invalid(fmt.Sprintf("%s[%d].name", field, i), "name %q is also used by %s[%d]: give each a unique name", name, field, first)
		}
		seen[name] = i
	}
	return nil
}

// isRevisionMoved reports whether err is a batch that found the tenant at
// another revision than planned.
func isRevisionMoved(err error) bool {
	return errors.Is(err, store.ErrRevisionMoved)
}
