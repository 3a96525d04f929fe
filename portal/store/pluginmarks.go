package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
)

// Mark kinds of MarkPluginVersion.
const (
	MarkDeprecate = "deprecate"
	MarkYank      = "yank"
)

// maxNoticeLength caps the note that comes with a mark, in bytes.
const maxNoticeLength = 1024

// MarkPluginVersion deprecates or yanks a version. Only the members of the
// plugin's namespace and the operator may. Marking again is a no-op apart
// from the notice, which replaces the earlier one. Yanking does not touch
// existing installs or bindings: they keep running the version.
func (s *Store) MarkPluginVersion(ctx context.Context, by Publisher, name, version, mark, notice string) (PluginVersion, error) {
	if mark != MarkDeprecate && mark != MarkYank {
		return PluginVersion{}, fmt.Errorf("mark plugin version: unknown mark %q", mark)
	}
	if len(notice) > maxNoticeLength {
		return PluginVersion{}, fieldError("notice", "notice is %d bytes, above the limit of %d", len(notice), maxNoticeLength)
	}
	parsed, err := ParsePluginName("name", name)
	if err != nil {
		return PluginVersion{}, &NotFoundError{Resource: "plugin version", Name: bundle.Key(name, version)}
	}
	name = parsed.String()

	var marked PluginVersion
	err = s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := authorizePublisher(tx, by, parsed.Namespace); err != nil {
			return err
		}
		row, err := findPluginVersion(tx, name, version)
		if err != nil {
			return err
		}
		market, err := findVersionMarket(tx, row.ID)
		if err != nil {
			return err
		}

		now := tx.NowFunc()
		columns := map[string]any{"notice": notice}
		if mark == MarkDeprecate && market.DeprecatedAt == nil {
			columns["deprecated_at"] = now
			market.DeprecatedAt = &now
		}
		if mark == MarkYank && market.YankedAt == nil {
			columns["yanked_at"] = now
			market.YankedAt = &now
		}
		market.Notice = notice
		if err := tx.Model(&versionMarketRow{ID: row.ID}).Updates(columns).Error; err != nil {
			return fmt.Errorf("%s plugin version %q: %w", mark, bundle.Key(name, version), err)
		}
		marked = pluginVersionFromRow(row, market)
		return nil
	})
	return marked, err
}

// checkInstallable rejects a yanked version for a new install or binding.
func checkInstallable(tx *gorm.DB, row *pluginVersionRow, field string) error {
	market, err := findVersionMarket(tx, row.ID)
	if err != nil {
		return err
	}
	if market.YankedAt != nil {
		return fieldError(field, "version %q of plugin %q is yanked and cannot be installed or bound anew: choose another version", row.Version, row.Name)
	}
	return nil
}

// versionWarning returns the warning shown to a tenant for a binding or
// install of the version, or "" when it is neither deprecated nor yanked.
func versionWarning(name, version string, marks Marks) string {
	suffix := ""
	if marks.Notice != "" {
		suffix = ": " + marks.Notice
	}
	switch {
	case marks.Yanked:
		return fmt.Sprintf("plugin %q version %q is yanked by its publisher; it keeps running here, but move to another version%s", name, version, suffix)
	case marks.Deprecated:
		return fmt.Sprintf("plugin %q version %q is deprecated by its publisher%s", name, version, suffix)
	}
	return ""
}

// pluginSignatures returns the signature of each plugin version with the
// ids, keyed by id, for the bundle's plugin code.
func pluginSignatures(tx *gorm.DB, versionIDs []uint) (map[uint]string, error) {
	var rows []versionMarketRow
	if err := tx.Select("id", "signature").Where("id IN ?", versionIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read plugin signatures: %w", err)
	}
	signatures := make(map[uint]string, len(rows))
	for _, row := range rows {
		signatures[row.ID] = row.Signature
	}
	return signatures, nil
}

// PluginWarning is a warning about a deprecated or yanked version that a
// tenant's binding or install runs.
type PluginWarning struct {
	// Binding is the binding's id, empty for an install.
	Binding string `json:"binding,omitempty"`
	// Install is the installed plugin's name, empty for a binding.
	Install string `json:"install,omitempty"`
	Plugin  string `json:"plugin"`
	Version string `json:"version"`
	Warning string `json:"warning"`
}

// PluginWarnings lists the tenant's bindings and installs that run a
// deprecated or yanked version, bindings first, in creation order.
func (s *Store) PluginWarnings(ctx context.Context, slug string) ([]PluginWarning, error) {
	warnings := []PluginWarning{}
	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		views, err := listBindingViews(tx, tenant)
		if err != nil {
			return err
		}
		for _, view := range views {
			market, err := findVersionMarket(tx, view.PluginVersionID)
			if err != nil {
				return err
			}
			if text := versionWarning(view.Plugin, view.Version, market.marks()); text != "" {
				warnings = append(warnings, PluginWarning{Binding: view.PublicID, Plugin: view.Plugin, Version: view.Version, Warning: text})
			}
		}

		var installs []installRow
		if err := scoped(tx, tenant).Order("plugin").Find(&installs).Error; err != nil {
			return fmt.Errorf("list installs of tenant %q: %w", slug, err)
		}
		for i := range installs {
			view, err := installView(tx, &installs[i])
			if err != nil {
				return err
			}
			if view.Warning != "" {
				warnings = append(warnings, PluginWarning{Install: view.Plugin, Plugin: view.Plugin, Version: view.Version, Warning: view.Warning})
			}
		}
		return nil
	})
	return warnings, err
}
