package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
)

// rangePattern is the range syntax that installs accept: a caret range of a
// major, minor or patch version ("^1", "^1.2", "^1.2.3") or a tilde range
// of a minor or patch version ("~1.2", "~1.2.3").
var rangePattern = regexp.MustCompile(`^(\^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){0,2}|~(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){1,2})$`)

// maxRangeLength caps a version range in bytes.
const maxRangeLength = 64

// installRow is a tenant's install of a plugin: the version it runs, the
// range it follows (empty for a pin) and the version before the last change.
type installRow struct {
	ID                uint
	TenantID          uint
	Plugin            string
	VersionRange      string
	PluginVersionID   uint
	PreviousVersionID *uint
	// HeldBack is the JSON of a HeldBack, or "" when no version is held
	// back.
	HeldBack  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (installRow) TableName() string { return "plugin_installs" }

// Install is a tenant's install of a plugin.
type Install struct {
	Plugin string `json:"plugin"`
	// Version is the installed version.
	Version string `json:"version"`
	// Range is the range the install follows, empty for a pinned version.
	Range string `json:"range,omitempty"`
	// PreviousVersion is the version that a rollback returns to, empty
	// before the first change.
	PreviousVersion string `json:"previous_version,omitempty"`
	// Warning is set when the installed version is deprecated or yanked.
	Warning string `json:"warning,omitempty"`
	// HeldBack is set when a release in the range did not move the install
	// because a binding that follows it fails the new version.
	HeldBack  *HeldBack `json:"held_back,omitempty" jsonschema_description:"The newest version in the range, which the install did not move to because the config of a binding that follows the install fails the version's config_schema or a test vector marked binding_config. Absent when no version is held back."`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// InstallRequest installs or changes an install: exactly one of Version (a
// pin) and Range.
type InstallRequest struct {
	Plugin  string
	Version string
	Range   string
}

// validate checks the request and returns the canonical plugin name.
func (r *InstallRequest) validate() (string, error) {
	name, err := ParsePluginName("plugin", r.Plugin)
	if err != nil {
		return "", err
	}
	switch {
	case r.Version == "" && r.Range == "":
		return "", fieldError("version", "send either version, an exact version such as \"1.2.3\", or range, such as \"^1.2\"")
	case r.Version != "" && r.Range != "":
		return "", fieldError("range", "send either version or range, not both")
	case r.Version != "":
		return name.String(), ValidatePluginVersion("version", r.Version)
	}
	_, err = ParseRange(r.Range)
	return name.String(), err
}

// ParseRange parses an install's version range. It accepts "^MAJOR",
// "^MAJOR.MINOR", "^MAJOR.MINOR.PATCH", "~MAJOR.MINOR" and
// "~MAJOR.MINOR.PATCH", with the npm meaning: a caret range allows changes
// that keep the leftmost non-zero part, a tilde range allows patch changes.
// Pre-release versions never match.
func ParseRange(text string) (*semver.Constraints, error) {
	if len(text) > maxRangeLength || !rangePattern.MatchString(text) {
		return nil, fieldError("range", "%q is not a supported range: use ^MAJOR, ^MAJOR.MINOR, ^MAJOR.MINOR.PATCH, ~MAJOR.MINOR or ~MAJOR.MINOR.PATCH, such as \"^1.2\"", text)
	}
	constraint, err := semver.NewConstraint(text)
	if err != nil {
		return nil, fieldError("range", "%q is not a valid range: %v", text, err)
	}
	return constraint, nil
}

// candidateVersion is a published version of a plugin with its yank mark.
type candidateVersion struct {
	ID       uint
	Version  string
	YankedAt *time.Time
}

// newestInRange returns the newest version of the plugin that is not
// yanked and falls in the range, or a field error naming the range.
func newestInRange(tx *gorm.DB, plugin, text string) (*pluginVersionRow, error) {
	constraint, err := ParseRange(text)
	if err != nil {
		return nil, err
	}
	var candidates []candidateVersion
	if err := tx.Table("plugin_versions").Select("id, version, yanked_at").Where("name = ?", plugin).Find(&candidates).Error; err != nil {
		return nil, fmt.Errorf("list versions of plugin %q: %w", plugin, err)
	}
	if len(candidates) == 0 {
		return nil, fieldError("plugin", "plugin %q is not published: publish it first or name a published plugin", plugin)
	}

	var best *semver.Version
	var bestID uint
	for _, candidate := range candidates {
		parsed, err := semver.StrictNewVersion(candidate.Version)
		if err != nil || candidate.YankedAt != nil || !constraint.Check(parsed) {
			continue
		}
		if best == nil || parsed.GreaterThan(best) {
			best, bestID = parsed, candidate.ID
		}
	}
	if best == nil {
		return nil, fieldError("range", "no version of plugin %q that is not yanked falls in %q: choose another range", plugin, text)
	}

	var row pluginVersionRow
	if err := tx.Where("id = ?", bestID).Limit(1).Find(&row).Error; err != nil {
		return nil, fmt.Errorf("read plugin version %q: %w", bundle.Key(plugin, best.Original()), err)
	}
	return &row, nil
}

// resolveInstall finds the version that a request names: the exact version,
// which must not be yanked, or the newest in the range.
func resolveInstall(tx *gorm.DB, plugin string, request InstallRequest) (*pluginVersionRow, error) {
	if request.Range != "" {
		return newestInRange(tx, plugin, request.Range)
	}
	row, err := resolvePluginVersion(tx, plugin, request.Version)
	if err != nil {
		return nil, err
	}
	return row, checkInstallable(tx, row, "version")
}

func findInstall(tx *gorm.DB, tenant *tenantRow, plugin string) (*installRow, error) {
	var row installRow
	result := scoped(tx, tenant).Where("plugin = ?", plugin).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read install of plugin %q in tenant %q: %w", plugin, tenant.Slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "install", Name: plugin}
	}
	return &row, nil
}

// CreateInstall installs a plugin in the tenant at a pinned version or the
// newest version in a range. A plugin that the tenant has installed is a
// ConflictError: change it with UpdateInstall.
func (s *Store) CreateInstall(ctx context.Context, slug string, request InstallRequest) (Install, error) {
	plugin, err := request.validate()
	if err != nil {
		return Install{}, err
	}

	var created Install
	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		if _, err := findInstall(tx, tenant, plugin); err == nil {
			return change{}, conflict("plugin %q is already installed in tenant %q: change it with PUT .../installs/%s", plugin, slug, plugin)
		} else if !isNotFound(err) {
			return change{}, err
		}
		version, err := resolveInstall(tx, plugin, request)
		if err != nil {
			return change{}, err
		}

		now := tx.NowFunc().Truncate(time.Microsecond)
		row := installRow{TenantID: tenant.ID, Plugin: plugin, VersionRange: request.Range, PluginVersionID: version.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return change{}, fmt.Errorf("install plugin %q in tenant %q: %w", plugin, slug, err)
		}
		created, err = installView(tx, &row)
		return change{kind: KindCreate, resource: "install/" + plugin}, err
	})
	return created, err
}

// UpdateInstall changes the pin or range of an install and clears its
// held-back version. When the version changes, the old one becomes the
// rollback target and every binding that follows the install moves along.
// A binding config that the new version's schema or its vectors marked
// binding_config reject fails the whole change with field errors on
// "bindings.ID.config". The vectors run outside the transaction, as for
// CreateBinding.
func (s *Store) UpdateInstall(ctx context.Context, slug, plugin string, request InstallRequest) (Install, error) {
	plugin = canonicalPluginName(plugin)
	if request.Plugin == "" {
		request.Plugin = plugin
	}
	name, err := request.validate()
	if err != nil {
		return Install{}, err
	}
	if name != plugin {
		return Install{}, fieldError("plugin", "plugin %q differs from %q in the path: an install cannot change its plugin", request.Plugin, plugin)
	}

	var updated Install
	ctx = withBindingChecks(ctx)
	err = s.writeBinding(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findInstall(tx, tenant, plugin)
		if err != nil {
			return change{}, err
		}
		version, err := resolveInstall(tx, plugin, request)
		if err != nil {
			return change{}, err
		}
		if err := s.moveInstall(ctx, tx, tenant, row, version, request.Range); err != nil {
			return change{}, err
		}
		updated, err = installView(tx, row)
		return change{kind: KindUpdate, resource: "install/" + plugin}, err
	})
	return updated, err
}

// RollbackInstall returns the install to its previous version in one
// change, and pins it there so that a later publish does not move it on. The
// version it left becomes the new rollback target. The following bindings
// go through the checks of UpdateInstall.
func (s *Store) RollbackInstall(ctx context.Context, slug, plugin string) (Install, error) {
	plugin = canonicalPluginName(plugin)

	var updated Install
	ctx = withBindingChecks(ctx)
	err := s.writeBinding(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findInstall(tx, tenant, plugin)
		if err != nil {
			return change{}, err
		}
		if row.PreviousVersionID == nil {
			return change{}, conflict("install of plugin %q in tenant %q has no previous version to roll back to", plugin, slug)
		}
		var previous pluginVersionRow
		if err := tx.Where("id = ?", *row.PreviousVersionID).Limit(1).Find(&previous).Error; err != nil {
			return change{}, fmt.Errorf("read previous version of plugin %q: %w", plugin, err)
		}
		if err := s.moveInstall(ctx, tx, tenant, row, &previous, ""); err != nil {
			return change{}, err
		}
		updated, err = installView(tx, row)
		return change{kind: KindUpdate, resource: "install/" + plugin}, err
	})
	return updated, err
}

// moveInstall sets the install's version and range, keeps the version it
// leaves as the rollback target, moves the following bindings and clears
// the held-back version.
func (s *Store) moveInstall(ctx context.Context, tx *gorm.DB, tenant *tenantRow, row *installRow, version *pluginVersionRow, versionRange string) error {
	// PostgreSQL keeps microseconds, so the row in memory matches a read.
	now := tx.NowFunc().Truncate(time.Microsecond)
	columns := map[string]any{"version_range": versionRange, "held_back": "", "updated_at": now}
	if version.ID != row.PluginVersionID {
		if err := s.moveFollowingBindings(ctx, tx, tenant, row.Plugin, version); err != nil {
			return err
		}
		previous := row.PluginVersionID
		columns["previous_version_id"] = previous
		columns["plugin_version_id"] = version.ID
		row.PreviousVersionID = &previous
		row.PluginVersionID = version.ID
	}
	row.VersionRange = versionRange
	row.HeldBack = ""
	row.UpdatedAt = now

	if err := tx.Model(&installRow{ID: row.ID}).Updates(columns).Error; err != nil {
		return fmt.Errorf("update install of plugin %q in tenant %q: %w", row.Plugin, tenant.Slug, err)
	}
	return nil
}

// installView returns the install with its version strings and warning.
func installView(tx *gorm.DB, row *installRow) (Install, error) {
	version, market, err := versionByID(tx, row.PluginVersionID)
	if err != nil {
		return Install{}, err
	}
	heldBack, err := decodeHeldBack(row)
	if err != nil {
		return Install{}, err
	}
	view := Install{
		Plugin:    row.Plugin,
		Version:   version.Version,
		Range:     row.VersionRange,
		Warning:   versionWarning(row.Plugin, version.Version, market.marks()),
		HeldBack:  heldBack,
		CreatedAt: row.CreatedAt,
		UpdatedAt: row.UpdatedAt,
	}
	if row.PreviousVersionID != nil {
		previous, _, err := versionByID(tx, *row.PreviousVersionID)
		if err != nil {
			return Install{}, err
		}
		view.PreviousVersion = previous.Version
	}
	return view, nil
}

func versionByID(tx *gorm.DB, id uint) (*pluginVersionRow, *versionMarketRow, error) {
	var row pluginVersionRow
	if err := tx.Select("id", "name", "version").Where("id = ?", id).Limit(1).Find(&row).Error; err != nil {
		return nil, nil, fmt.Errorf("read plugin version %d: %w", id, err)
	}
	market, err := findVersionMarket(tx, id)
	if err != nil {
		return nil, nil, err
	}
	return &row, market, nil
}

// ListInstalls returns the tenant's installs ordered by plugin name.
func (s *Store) ListInstalls(ctx context.Context, slug string) ([]Install, error) {
	installs := []Install{}
	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		var rows []installRow
		if err := scoped(tx, tenant).Order("plugin").Find(&rows).Error; err != nil {
			return fmt.Errorf("list installs of tenant %q: %w", slug, err)
		}
		for i := range rows {
			view, err := installView(tx, &rows[i])
			if err != nil {
				return err
			}
			installs = append(installs, view)
		}
		return nil
	})
	return installs, err
}

// GetInstall returns the tenant's install of the plugin.
func (s *Store) GetInstall(ctx context.Context, slug, plugin string) (Install, error) {
	plugin = canonicalPluginName(plugin)
	var found Install
	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		row, err := findInstall(tx, tenant, plugin)
		if err != nil {
			return err
		}
		found, err = installView(tx, row)
		return err
	})
	return found, err
}

// DeleteInstall removes an install that no binding follows.
func (s *Store) DeleteInstall(ctx context.Context, slug, plugin string) error {
	plugin = canonicalPluginName(plugin)
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findInstall(tx, tenant, plugin)
		if err != nil {
			return change{}, err
		}
		var followers []string
		err = scoped(tx, tenant).Model(&bindingRow{}).
			Where("follows_install = ? AND plugin_version_id = ?", true, row.PluginVersionID).
			Order("id").Pluck("public_id", &followers).Error
		if err != nil {
			return change{}, fmt.Errorf("find bindings that follow plugin %q: %w", plugin, err)
		}
		if len(followers) > 0 {
			dependents := make([]string, len(followers))
			for i, id := range followers {
				dependents[i] = fmt.Sprintf("binding %q", id)
			}
			return change{}, conflictWith(dependents, "bindings follow the install of plugin %q: delete them or give them a version first", plugin)
		}
		if err := tx.Delete(&installRow{}, row.ID).Error; err != nil {
			return change{}, fmt.Errorf("delete install of plugin %q in tenant %q: %w", plugin, slug, err)
		}
		return change{kind: KindDelete, resource: "install/" + plugin}, nil
	})
	return err
}

// followNewVersion moves every install that follows a range of the plugin
// to the newest version in its range, one tenant and revision at a time.
// The following bindings go through the checks of UpdateInstall, and the
// configs whose vectors pass are shared between the tenants. A tenant
// whose binding fails them stays on its version, with the version held
// back on its install. A tenant whose move fails for another reason stays
// too, and the store logs why.
func (s *Store) followNewVersion(ctx context.Context, plugin string) {
	var slugs []string
	err := s.reader.WithContext(ctx).Table("plugin_installs").
		Joins("JOIN tenants ON tenants.id = plugin_installs.tenant_id").
		Where("plugin_installs.plugin = ? AND plugin_installs.version_range <> ''", plugin).
		Order("tenants.slug").Pluck("tenants.slug", &slugs).Error
	if err != nil {
		s.logger.Error("find installs that follow a range", "plugin", plugin, "error", err)
		return
	}

	ctx = WithCheckedBindings(ctx, NewCheckedBindings())
	for _, slug := range slugs {
		if err := s.followInTenant(ctx, slug, plugin); err != nil && !errors.Is(err, errNoMove) {
			s.logger.Error("move install to the newest version in its range", "tenant", slug, "plugin", plugin, "error", err)
		}
	}
}

// errNoMove ends a follow transaction that has nothing to change, so the
// tenant's revision stays.
var errNoMove = errors.New("install already runs the newest version in its range")

// followInTenant moves the tenant's install of the plugin to the newest
// version in its range, or records that version as held back when a
// binding that follows the install fails it.
func (s *Store) followInTenant(ctx context.Context, slug, plugin string) error {
	var seen installRow
	err := s.writeBinding(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findInstall(tx, tenant, plugin)
		if err != nil {
			return change{}, err
		}
		if row.VersionRange == "" {
			return change{}, errNoMove
		}
		newest, err := newestInRange(tx, plugin, row.VersionRange)
		if err != nil {
			return change{}, err
		}
		if newest.ID == row.PluginVersionID || !isNewer(tx, newest, row.PluginVersionID) {
			return change{}, errNoMove
		}
		seen = *row
		if err := s.moveInstall(ctx, tx, tenant, row, newest, row.VersionRange); err != nil {
			return change{}, err
		}
		return change{kind: KindUpdate, resource: "install/" + plugin}, nil
	})

	var rejected *followerRejected
	if errors.As(err, &rejected) {
		return s.holdBack(ctx, slug, &seen, rejected)
	}
	return err
}

// isNewer reports whether candidate is a higher version than the version
// with the id, so that following a range never moves an install back.
func isNewer(tx *gorm.DB, candidate *pluginVersionRow, currentID uint) bool {
	current, _, err := versionByID(tx, currentID)
	if err != nil {
		return false
	}
	return compareVersions(candidate.Version, current.Version) > 0
}

// sortVersions orders version strings by semantic version precedence,
// oldest first.
func sortVersions(versions []string) {
	sort.SliceStable(versions, func(i, j int) bool {
		return compareVersions(versions[i], versions[j]) < 0
	})
}

// compareVersions compares two versions by semantic version precedence. A
// string that does not parse sorts before every version, and two such
// strings compare as text.
func compareVersions(a, b string) int {
	parsedA, errA := semver.StrictNewVersion(a)
	parsedB, errB := semver.StrictNewVersion(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return parsedA.Compare(parsedB)
}
