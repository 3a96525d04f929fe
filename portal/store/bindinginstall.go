package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/tenants/config"
)

// validateBinding checks a binding's own fields like config.Binding.Validate,
// but accepts a namespaced plugin name and an empty version, which means the
// tenant's installed version. It stores the plugin's canonical name.
func validateBinding(binding *config.Binding) error {
	name, err := ParsePluginName("plugin", binding.Plugin)
	if err != nil {
		return err
	}
	binding.Plugin = name.String()
	if binding.Version != "" {
		if err := ValidatePluginVersion("version", binding.Version); err != nil {
			return err
		}
	}

	// The copy carries a bare name and a placeholder version, so that
	// Validate checks every other field.
	check := *binding
	check.Plugin = name.Name
	check.Version = "0.0.0"
	return check.Validate()
}

// resolveBindingVersion finds the plugin version of a binding. An empty
// version names the tenant's installed version, which it writes into the
// binding; an explicit version pins the binding regardless of installs.
func resolveBindingVersion(tx *gorm.DB, tenant *tenantRow, binding *config.Binding) (*pluginVersionRow, error) {
	if binding.Version != "" {
		return resolvePluginVersion(tx, binding.Plugin, binding.Version)
	}

	install, err := findInstall(tx, tenant, binding.Plugin)
	if isNotFound(err) {
		return nil, fieldError("version", "plugin %q is not installed in tenant %q: send a version, or install the plugin first with POST /api/v1/tenants/%s/installs", binding.Plugin, tenant.Slug, tenant.Slug)
	}
	if err != nil {
		return nil, err
	}
	var row pluginVersionRow
	if err := tx.Where("id = ?", install.PluginVersionID).Limit(1).Find(&row).Error; err != nil {
		return nil, fmt.Errorf("read installed version of plugin %q: %w", binding.Plugin, err)
	}
	binding.Version = row.Version
	return &row, nil
}

// followsAfterPatch reports whether a binding follows the install after the
// patch: a patch with version "" makes it follow, one with a version pins
// it, and one without version keeps what the binding did.
func followsAfterPatch(view *bindingView, patch BindingPatch) bool {
	if patch.Version == nil {
		return view.FollowsInstall
	}
	return *patch.Version == ""
}

// ListFollowingBindings returns the set of ids of the tenant's bindings that
// follow the tenant's install of their plugin.
func (s *Store) ListFollowingBindings(ctx context.Context, slug string) (map[string]bool, error) {
	following := make(map[string]bool)
	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}

		var ids []string
		err = scoped(tx, tenant).Model(&bindingRow{}).Where("follows_install = ?", true).Pluck("public_id", &ids).Error
		if err != nil {
			return fmt.Errorf("list bindings that follow an install in tenant %q: %w", slug, err)
		}
		for _, id := range ids {
			following[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return following, nil
}
