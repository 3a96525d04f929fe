package store

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/portal/store/migrations"
)

// StoredVersionsSchema is the oldest schema version of a database whose
// plugin versions ListStoredVersions can read. Migration 00207 added the
// column bindings.follows_install, which it counts.
const StoredVersionsSchema = 207

// SchemaVersion returns the newest schema migration that the database
// records as applied in its goose table, and the newest migration of this
// release. The first is larger when a portal of a newer release migrated
// the database.
func (s *Store) SchemaVersion(ctx context.Context) (applied, latest int64, err error) {
	latest, err = migrations.Latest(s.dialect)
	if err != nil {
		return 0, 0, err
	}
	var version sql.NullInt64
	if err := s.reader.WithContext(ctx).Raw("SELECT MAX(version_id) FROM " + migrations.VersionTable).Scan(&version).Error; err != nil {
		return 0, 0, fmt.Errorf("read the schema version from table %s: %w", migrations.VersionTable, err)
	}
	return version.Int64, latest, nil
}

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
