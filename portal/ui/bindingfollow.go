package ui

import (
	"context"

	"portcullis.dev/portal/store"
)

// followInstall is the field of the create form that chooses between
// pinning the form's version ("false") and following the tenant's install
// of the plugin ("true").
const followInstall = "follow_install"

// installOf returns the tenant's install of the plugin, or nil when the
// tenant has not installed it.
func (s *server) installOf(ctx context.Context, tenant, plugin string) (*store.Install, error) {
	install, err := s.store.GetInstall(ctx, tenant, plugin)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &install, nil
}

// resolveFollow sets the form's install. When the form follows the
// install, it also sets the form's version to the installed one, because
// the store checks the config against that version's schema. Following
// without an install is a field error on version that names the fix.
func (s *server) resolveFollow(ctx context.Context, tenant string, form *bindingForm) error {
	install, err := s.installOf(ctx, tenant, form.Plugin)
	if err != nil {
		return err
	}
	form.Install = install
	if !form.Follows {
		return nil
	}

	if install == nil {
		return notInstalled("version", form.Plugin, tenant)
	}
	form.Version = install.Version
	return nil
}

// bindingFollows reports whether the tenant's binding follows the install
// of its plugin.
func (s *server) bindingFollows(ctx context.Context, tenant, id string) (bool, error) {
	following, err := s.store.ListFollowingBindings(ctx, tenant)
	if err != nil {
		return false, err
	}
	return following[id], nil
}
