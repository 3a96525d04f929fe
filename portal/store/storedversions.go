package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// StoredVersion is a published plugin version with its source and the
// bindings that run it, for a check that compiles every stored version.
type StoredVersion struct {
	Name    string
	Version string
	Source  string
	// Users has one entry per tenant with a binding of the version, in
	// the order of the tenant slugs.
	Users []VersionUsers
}

// VersionUsers counts one tenant's bindings of a plugin version, enabled
// or not.
type VersionUsers struct {
	Tenant string
	// Pinned counts the bindings that name the version.
	Pinned int
	// Following counts the bindings that follow the tenant's install of
	// the plugin, which resolves to the version.
	Following int
}

// ListStoredVersions returns every published plugin version with its
// source, by name and then in publish order, and each tenant's bindings
// of it. It reads no binding config. One read transaction covers the
// versions and the counts, so they agree.
//
// NOTE: it holds every source in memory at once, which is at most
// MaxSourceLength bytes per version.
func (s *Store) ListStoredVersions(ctx context.Context) ([]StoredVersion, error) {
	var versions []StoredVersion
	err := s.read(ctx, func(tx *gorm.DB) error {
		var rows []pluginVersionRow
		if err := tx.Select("id", "name", "version", "source").Order("name").Order("id").Find(&rows).Error; err != nil {
			return fmt.Errorf("list plugin versions: %w", err)
		}
		users, err := versionUsers(tx)
		if err != nil {
			return err
		}

		versions = make([]StoredVersion, len(rows))
		for i, row := range rows {
			versions[i] = StoredVersion{Name: row.Name, Version: row.Version, Source: row.Source, Users: users[row.ID]}
		}
		return nil
	})
	return versions, err
}

// versionUsers counts the bindings of every plugin version by tenant,
// keyed by the version's row id. A binding that follows an install has the
// id of the install's version, so one count covers both kinds.
func versionUsers(tx *gorm.DB) (map[uint][]VersionUsers, error) {
	var counts []struct {
		PluginVersionID uint
		Slug            string
		FollowsInstall  bool
		Bindings        int
	}
	err := tx.Table("bindings").
		Select("bindings.plugin_version_id, tenants.slug, bindings.follows_install, COUNT(*) AS bindings").
		Joins("JOIN tenants ON tenants.id = bindings.tenant_id").
		Group("bindings.plugin_version_id, tenants.slug, bindings.follows_install").
		Order("tenants.slug").
		Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("count bindings of plugin versions: %w", err)
	}

	users := map[uint][]VersionUsers{}
	for _, count := range counts {
		list := users[count.PluginVersionID]
		if last := len(list) - 1; last < 0 || list[last].Tenant != count.Slug {
			list = append(list, VersionUsers{Tenant: count.Slug})
		}
		entry := &list[len(list)-1]
		if count.FollowsInstall {
			entry.Following += count.Bindings
		} else {
			entry.Pinned += count.Bindings
		}
		users[count.PluginVersionID] = list
	}
	return users, nil
}
