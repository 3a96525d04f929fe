package ui

import (
	"context"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
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

// resolveFollow sets the form's install and checks the choice to follow
// it. The form keeps the version chosen in the marketplace, so that every
// re-render offers to pin that version. Following without an install is a
// field error on version. Following from the form of a version other than
// the installed one is a field error too, because the store checks the
// config against the installed version's schema, which can lack inputs of
// the form.
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
	if install.Version != form.Version {
		return config.Invalid("version", "this form is for version %[1]s, but the installed version is %[2]s: to follow the install, open the form for version %[2]s with the link above, or pin version %[1]s", form.Version, install.Version)
	}
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
