package ui

import (
	"context"
	"strings"

	"portcullis.dev/portal/store"
)

// confirmDuplicate is the form field of the "create anyway" button, which
// creates a binding even though the same plugin is bound at its scope.
const confirmDuplicate = "confirm_duplicate"

// duplicateBindings returns the ids, joined by ", ", of the tenant's
// bindings of the form's plugin, in any version, at the form's scope: the
// same route or none, and the same consumer or none. The edge runs every
// enabled one of them, so one more binding runs the plugin once more on
// each request. The API allows such duplicates, so only the console warns.
func (s *server) duplicateBindings(ctx context.Context, tenant string, form bindingForm) (string, error) {
	bindings, _, err := s.store.ListBindingPage(ctx, tenant, store.Page{}, store.BindingFilter{Plugin: form.Plugin})
	if err != nil {
		return "", err
	}

	var ids []string
	for _, binding := range bindings {
		if binding.Route == form.Route && binding.Consumer == form.Consumer {
			ids = append(ids, binding.ID)
		}
	}
	return strings.Join(ids, ", "), nil
}
