package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"portcullis.dev/tenants/bundle"
)

// Limits of the plugin catalogue search.
const (
	// BrowsePageSize is the number of plugins per page of BrowsePlugins.
	BrowsePageSize = 20
	// MaxBrowsePage caps the page number, so a request cannot ask the
	// database to skip an unbounded number of rows.
	MaxBrowsePage = 1000
	// MaxQueryLength caps the search text in bytes.
	MaxQueryLength = 100
	// MaxPluginErrorEntries caps the plugin versions in one heartbeat.
	MaxPluginErrorEntries = 1000
)

// BrowseQuery selects one page of the catalogue.
type BrowseQuery struct {
	// Text matches plugin names and descriptions, case-insensitively.
	// Empty matches every plugin.
	Text string
	// Namespace limits the page to one namespace. Empty means all.
	Namespace string
	// Page counts from 1.
	Page int
}

// CatalogEntry is one plugin on a catalogue page.
type CatalogEntry struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// LatestVersion is the highest release that is not yanked, else the
	// highest pre-release that is not yanked, else the highest version.
	LatestVersion string `json:"latest_version"`
	Description   string `json:"description"`
	// Installs counts the tenants that install the plugin at any version.
	Installs int64 `json:"installs"`
	// Warning is set when the latest version is deprecated or yanked.
	Warning string `json:"warning,omitempty"`
}

// CatalogPage is one page of the catalogue.
type CatalogPage struct {
	Plugins []CatalogEntry `json:"plugins"`
	Page    int            `json:"page"`
	// Total counts the plugins that match the query, on all pages.
	Total int64 `json:"total"`
	// HasMore is true when a later page holds more plugins.
	HasMore bool `json:"has_more"`
}

// catalogVersion is one row of the catalogue query.
type catalogVersion struct {
	ID          uint
	Name        string
	Version     string
	Namespace   string
	Description string
	Deprecated  *time.Time `gorm:"column:deprecated_at"`
	Yanked      *time.Time `gorm:"column:yanked_at"`
	Notice      string
}

// validate checks the query and fills the default page.
func (q *BrowseQuery) validate() error {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.Page < 1 || q.Page > MaxBrowsePage {
		return fieldError("page", "page %d is out of range: use 1 to %d", q.Page, MaxBrowsePage)
	}
	if len(q.Text) > MaxQueryLength {
		return fieldError("q", "q is %d bytes, above the limit of %d", len(q.Text), MaxQueryLength)
	}
	if q.Namespace != "" {
		return validateNamespaceName("namespace", q.Namespace)
	}
	return nil
}

// BrowsePlugins returns one page of plugins ordered by name, each with its
// latest version, description and install count.
func (s *Store) BrowsePlugins(ctx context.Context, query BrowseQuery) (CatalogPage, error) {
	if err := query.validate(); err != nil {
		return CatalogPage{}, err
	}

	page := CatalogPage{Plugins: []CatalogEntry{}, Page: query.Page}
	err := s.read(ctx, func(tx *gorm.DB) error {
		names := tx.Table("plugin_versions")
		if query.Namespace != "" {
			names = names.Where("namespace = ?", query.Namespace)
		}
		if query.Text != "" {
			pattern := "%" + escapeSearchText(strings.ToLower(query.Text)) + "%"
			names = names.Where("(LOWER(name) LIKE ? ESCAPE '!' OR LOWER(description) LIKE ? ESCAPE '!')", pattern, pattern)
		}

		if err := names.Session(&gorm.Session{}).Distinct("name").Count(&page.Total).Error; err != nil {
			return fmt.Errorf("count plugins: %w", err)
		}
		var selected []string
		err := names.Distinct("name").Order("name").Offset((query.Page-1)*BrowsePageSize).Limit(BrowsePageSize).Pluck("name", &selected).Error
		if err != nil {
			return fmt.Errorf("list plugins: %w", err)
		}
		page.HasMore = int64(query.Page*BrowsePageSize) < page.Total

		for _, name := range selected {
			entry, err := catalogEntry(tx, name)
			if err != nil {
				return err
			}
			page.Plugins = append(page.Plugins, entry)
		}
		return nil
	})
	return page, err
}

// escapeSearchText escapes the LIKE wildcards of text with "!".
func escapeSearchText(text string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(text)
}

func catalogEntry(tx *gorm.DB, name string) (CatalogEntry, error) {
	var versions []catalogVersion
	err := tx.Table("plugin_versions").
		Select("id, name, version, namespace, description, deprecated_at, yanked_at, notice").
		Where("name = ?", name).Find(&versions).Error
	if err != nil {
		return CatalogEntry{}, fmt.Errorf("read versions of plugin %q: %w", name, err)
	}

	latest := latestVersion(versions)
	entry := CatalogEntry{Name: name, Namespace: latest.Namespace, LatestVersion: latest.Version, Description: latest.Description}
	market := versionMarketRow{DeprecatedAt: latest.Deprecated, YankedAt: latest.Yanked, Notice: latest.Notice}
	entry.Warning = versionWarning(name, latest.Version, market.marks())

	if err := tx.Table("plugin_installs").Where("plugin = ?", name).Count(&entry.Installs).Error; err != nil {
		return CatalogEntry{}, fmt.Errorf("count installs of plugin %q: %w", name, err)
	}
	return entry, nil
}

// latestVersion returns the highest release that is not yanked, else the
// highest pre-release that is not yanked, else the highest version.
// versions must not be empty.
func latestVersion(versions []catalogVersion) catalogVersion {
	sorted := slices.Clone(versions)
	slices.SortStableFunc(sorted, func(a, b catalogVersion) int { return compareVersions(b.Version, a.Version) })

	for _, version := range sorted {
		if version.Yanked == nil && isRelease(version.Version) {
			return version
		}
	}
	for _, version := range sorted {
		if version.Yanked == nil {
			return version
		}
	}
	return sorted[0]
}

// isRelease reports whether version parses and has no pre-release part.
func isRelease(version string) bool {
	parsed, err := semver.StrictNewVersion(version)
	return err == nil && parsed.Prerelease() == ""
}

// VersionStats are the installs and edge-reported errors of one version.
type VersionStats struct {
	Version string `json:"version"`
	Marks
	// Installs counts the tenants whose install runs this version.
	Installs int64 `json:"installs"`
	// Bindings counts the bindings, across tenants, that run this version.
	Bindings int64 `json:"bindings"`
	// Errors sums the hook errors that edges report for this version, as
	// the latest count from each edge.
	Errors int64 `json:"errors"`
}

// PluginStats are the per-version statistics of a plugin.
type PluginStats struct {
	Name     string         `json:"name"`
	Versions []VersionStats `json:"versions"`
}

// PluginStats returns installs, bindings and error counts for each version
// of a plugin, in version order. Only the namespace's members and the
// operator may read them.
func (s *Store) PluginStats(ctx context.Context, by Publisher, name string) (PluginStats, error) {
	parsed, err := ParsePluginName("name", name)
	if err != nil {
		return PluginStats{}, &NotFoundError{Resource: "plugin", Name: name}
	}
	name = parsed.String()

	stats := PluginStats{Name: name, Versions: []VersionStats{}}
	err = s.read(ctx, func(tx *gorm.DB) error {
		if err := authorizePublisher(tx, by, parsed.Namespace); err != nil {
			return err
		}
		var versions []catalogVersion
		if err := tx.Table("plugin_versions").Select("id, version, deprecated_at, yanked_at, notice").Where("name = ?", name).Find(&versions).Error; err != nil {
			return fmt.Errorf("read versions of plugin %q: %w", name, err)
		}
		if len(versions) == 0 {
			return &NotFoundError{Resource: "plugin", Name: name}
		}
		for _, version := range versions {
			entry, err := versionStats(tx, name, version)
			if err != nil {
				return err
			}
			stats.Versions = append(stats.Versions, entry)
		}
		return nil
	})
	sort.SliceStable(stats.Versions, func(i, j int) bool {
		return compareVersions(stats.Versions[i].Version, stats.Versions[j].Version) < 0
	})
	return stats, err
}

func versionStats(tx *gorm.DB, name string, version catalogVersion) (VersionStats, error) {
	market := versionMarketRow{DeprecatedAt: version.Deprecated, YankedAt: version.Yanked, Notice: version.Notice}
	entry := VersionStats{Version: version.Version, Marks: market.marks()}
	key := bundle.Key(name, version.Version)

	if err := tx.Table("plugin_installs").Where("plugin_version_id = ?", version.ID).Count(&entry.Installs).Error; err != nil {
		return entry, fmt.Errorf("count installs of %q: %w", key, err)
	}
	if err := tx.Table("bindings").Where("plugin_version_id = ?", version.ID).Count(&entry.Bindings).Error; err != nil {
		return entry, fmt.Errorf("count bindings of %q: %w", key, err)
	}
	err := tx.Table("plugin_error_counts").Select("COALESCE(SUM(errors), 0)").
		Where("plugin = ? AND version = ?", name, version.Version).Scan(&entry.Errors).Error
	if err != nil {
		return entry, fmt.Errorf("sum errors of %q: %w", key, err)
	}
	return entry, nil
}

// pluginErrorRow is the latest error count that one edge reported for one
// plugin version.
type pluginErrorRow struct {
	ID        uint
	Edge      string
	Plugin    string
	Version   string
	Errors    int64
	UpdatedAt time.Time
}

func (pluginErrorRow) TableName() string { return "plugin_error_counts" }

// recordPluginErrors stores an edge's error counts, keyed by bundle.Key
// (name@version). Each count replaces the edge's earlier count for that
// version, because edges report totals since they started.
//
// NOTE: an edge that restarts reports from zero again, so the sum drops
// by what the edge had counted before the restart.
func recordPluginErrors(tx *gorm.DB, edge string, counts map[string]int64) error {
	now := time.Now().UTC()
	for key, count := range counts {
		at := strings.LastIndex(key, "@")
		if at <= 0 || count < 0 {
			continue
		}
		row := pluginErrorRow{Edge: edge, Plugin: key[:at], Version: key[at+1:], Errors: count, UpdatedAt: now}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "edge"}, {Name: "plugin"}, {Name: "version"}},
			DoUpdates: clause.AssignmentColumns([]string{"errors", "updated_at"}),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("record errors of %q from edge %q: %w", key, edge, err)
		}
	}
	return nil
}

// ValidatePluginErrors checks the plugin_errors of a heartbeat.
func ValidatePluginErrors(counts map[string]int64) error {
	if len(counts) > MaxPluginErrorEntries {
		return fieldError("plugin_errors", "plugin_errors has %d entries, above the limit of %d", len(counts), MaxPluginErrorEntries)
	}
	for key, count := range counts {
		at := strings.LastIndex(key, "@")
		if at <= 0 || at == len(key)-1 || len(key) > 300 {
			return fieldError("plugin_errors", "key %q is not name@version", key)
		}
		if count < 0 {
			return fieldError("plugin_errors", "count of %q is negative", key)
		}
	}
	return nil
}
