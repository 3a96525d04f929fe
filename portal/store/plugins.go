package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/Masterminds/semver/v3"
	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// MaxSourceLength is the maximum size of plugin source in bytes.
const MaxSourceLength = 256 << 10

// maxVersionLength caps a semantic version, whose pre-release and build
// parts have no length limit of their own.
const maxVersionLength = 128

// sourceFile is the name of the source in a plugin package, which publish
// errors name so that a publisher finds the line in their own files.
const sourceFile = "plugin.risor"

// MaxDescriptionLength is the maximum size of a version's description in
// bytes.
const MaxDescriptionLength = 1024

// PluginSigner signs a published plugin version. The portal passes a
// *signing.Signer.
type PluginSigner interface {
	Sign(name, version, sourceSHA256 string) string
}

// NewPluginVersion is the input that publishes a plugin version.
type NewPluginVersion struct {
	// Name is "name" in OperatorNamespace, or "namespace/name".
	Name    string
	Version string
	Source  string
	// Description is a short summary for the catalogue. Optional.
	Description string
	// ConfigSchema is a JSON Schema for binding configs. Empty or null means
	// DefaultConfigSchema.
	ConfigSchema json.RawMessage
	// Priority is the default priority of the version's bindings.
	Priority int
	// Readme is the version's README in Markdown. Optional.
	Readme string
	// TestVectors is a JSON array of test vectors. Empty or null means
	// none. Publishing runs them through Options.Tester.
	TestVectors json.RawMessage
	// By is who publishes. Nil means a caller inside the portal process,
	// such as the demo catalogue, with the operator's rights.
	By *Publisher
}

// Marks are the publisher's marks on a version. A deprecated version is
// still installable; a yanked one is not installable or bindable anew, but
// existing installs and bindings keep running it.
type Marks struct {
	Deprecated bool `json:"deprecated"`
	Yanked     bool `json:"yanked"`
	// Notice is the publisher's note on the latest mark, such as the
	// version to move to.
	Notice string `json:"notice,omitempty"`
}

// PluginVersion is one published version with its source.
type PluginVersion struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	Version     string `json:"version"`
	Description string `json:"description"`
	Source      string `json:"source"`
	SHA256      string `json:"sha256"`
	// Signature is the portal's base64 ed25519 signature of the version. It
	// is empty for a version published while the portal had no signing key.
	Signature string `json:"signature"`
	Marks
	ConfigSchema json.RawMessage `json:"config_schema"`
	Priority     int             `json:"priority"`
	Readme       string          `json:"readme"`
	TestVectors  json.RawMessage `json:"test_vectors"`
	PublishedAt  time.Time       `json:"published_at"`
}

// VersionInfo describes a published version without its source.
type VersionInfo struct {
	Version     string `json:"version"`
	SHA256      string `json:"sha256"`
	Description string `json:"description"`
	Marks
	ConfigSchema json.RawMessage `json:"config_schema"`
	PublishedAt  time.Time       `json:"published_at"`
}

// Plugin is a plugin name with all its published versions, oldest first.
type Plugin struct {
	Name      string        `json:"name"`
	Namespace string        `json:"namespace"`
	Versions  []VersionInfo `json:"versions"`
}

// PluginSummary is a plugin name with its version strings, oldest first.
type PluginSummary struct {
	Name     string   `json:"name"`
	Versions []string `json:"versions"`
}

// versionMarketRow reads and writes the marketplace columns of
// plugin_versions, which pluginVersionRow leaves out.
type versionMarketRow struct {
	ID           uint
	Namespace    string
	Description  string
	Signature    string
	DeprecatedAt *time.Time
	YankedAt     *time.Time
	Notice       string
}

func (versionMarketRow) TableName() string { return "plugin_versions" }

func (r *versionMarketRow) marks() Marks {
	return Marks{Deprecated: r.DeprecatedAt != nil, Yanked: r.YankedAt != nil, Notice: r.Notice}
}

func findVersionMarket(tx *gorm.DB, id uint) (*versionMarketRow, error) {
	var row versionMarketRow
	if err := tx.Where("id = ?", id).Limit(1).Find(&row).Error; err != nil {
		return nil, fmt.Errorf("read marks of plugin version %d: %w", id, err)
	}
	return &row, nil
}

func findPluginVersion(tx *gorm.DB, name, version string) (*pluginVersionRow, error) {
	var row pluginVersionRow
	result := tx.Where("name = ? AND version = ?", name, version).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read plugin version %q: %w", bundle.Key(name, version), result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "plugin version", Name: bundle.Key(name, version)}
	}
	return &row, nil
}

// ValidatePluginVersion checks that version is a strict semantic version
// (MAJOR.MINOR.PATCH with optional pre-release and build parts) of at most
// maxVersionLength characters. Errors are field errors on field.
func ValidatePluginVersion(field, version string) error {
	if len(version) > maxVersionLength {
		return fieldError(field, "version is %d characters, above the limit of %d", len(version), maxVersionLength)
	}
	if err := config.ValidateVersion(field, version); err != nil {
		return err
	}
	if _, err := semver.StrictNewVersion(version); err != nil {
		return fieldError(field, "%q is not a semantic version: %v", version, err)
	}
	return nil
}

// validatePluginVersion runs the size and format checks of publishing and
// returns the parsed name. Each size limit names its file in the package
// format of docs/plugins.md.
func validatePluginVersion(input *NewPluginVersion) (PluginName, error) {
	name, err := ParsePluginName("name", input.Name)
	if err != nil {
		return PluginName{}, err
	}
	if err := ValidatePluginVersion("version", input.Version); err != nil {
		return PluginName{}, err
	}
	if input.Source == "" {
		return PluginName{}, fieldError("source", "source is missing: send the plugin's Risor source code")
	}
	if input.Priority < -config.MaxPriority || input.Priority > config.MaxPriority {
		return PluginName{}, fieldError("priority", "priority %d is out of range: use %d to %d", input.Priority, -config.MaxPriority, config.MaxPriority)
	}
	if len(input.Source) > MaxSourceLength {
		return PluginName{}, fieldError("source", "size check failed: the source (plugin.risor) is %d bytes, above the limit of %d", len(input.Source), MaxSourceLength)
	}
	if len(input.Readme) > MaxReadmeLength {
		return PluginName{}, fieldError("readme", "size check failed: the readme (README.md) is %d bytes, above the limit of %d", len(input.Readme), MaxReadmeLength)
	}
	if len(input.Description) > MaxDescriptionLength {
		return PluginName{}, fieldError("description", "size check failed: the description is %d bytes, above the limit of %d", len(input.Description), MaxDescriptionLength)
	}
	return name, checkTestVectors(input)
}

// PublishPlugin stores a new immutable plugin version after every check
// passes: the name, namespace membership, semantic version and size limits,
// then the config schema, the compile and the test vectors. Only then does
// the version become visible, signed when the store has a signer. A name and
// version that exist already is a ConflictError. A compile failure returns
// the compiler's *CompileError or a *config.FieldError on "source".
//
// After the commit, every tenant whose install follows a range that the new
// version falls in moves to it, each in its own revision.
func (s *Store) PublishPlugin(ctx context.Context, input NewPluginVersion) (PluginVersion, error) {
	name, err := validatePluginVersion(&input)
	if err != nil {
		return PluginVersion{}, err
	}
	input.Name = name.String()
	if err := s.checkPublisher(ctx, input.By, name.Namespace); err != nil {
		return PluginVersion{}, err
	}
	if err := s.checkVersionFree(ctx, input.Name, input.Version); err != nil {
		return PluginVersion{}, err
	}

	schemaText, err := normalizeSchema(input.ConfigSchema)
	if err != nil {
		return PluginVersion{}, err
	}
	if _, err := compileSchema(schemaText); err != nil {
		return PluginVersion{}, err
	}
	if err := s.compileSource(input); err != nil {
		return PluginVersion{}, err
	}
	if err := s.testVectors(ctx, input); err != nil {
		return PluginVersion{}, err
	}

	published, err := s.storePluginVersion(ctx, input, name, schemaText)
	if err != nil {
		return PluginVersion{}, err
	}
	// The moves outlive the request, so a client that disconnects does not
	// leave some following tenants behind.
	s.followNewVersion(context.WithoutCancel(ctx), input.Name)
	return published, nil
}

// checkPublisher checks namespace membership before the slow checks run.
// The caller's rights are read again at no point after this, because a
// version cannot be changed once stored.
func (s *Store) checkPublisher(ctx context.Context, by *Publisher, namespace string) error {
	if by == nil {
		return nil
	}
	return s.read(ctx, func(tx *gorm.DB) error {
		return authorizePublisher(tx, *by, namespace)
	})
}

// checkVersionFree reports a version that exists already before the slow
// checks run, so a publisher learns it first. The write checks it again.
func (s *Store) checkVersionFree(ctx context.Context, name, version string) error {
	return s.read(ctx, func(tx *gorm.DB) error {
		_, err := findPluginVersion(tx, name, version)
		if err == nil {
			return versionExists(name, version)
		}
		if isNotFound(err) {
			return nil
		}
		return err
	})
}

// versionExists is the conflict of publishing a version a second time.
func versionExists(name, version string) error {
	return conflict("plugin version %q already exists: versions are immutable, so publish a new version", bundle.Key(name, version))
}

func (s *Store) storePluginVersion(ctx context.Context, input NewPluginVersion, name PluginName, schemaText string) (PluginVersion, error) {
	row := pluginVersionRow{
		Name:         input.Name,
		Version:      input.Version,
		Source:       input.Source,
		SHA256:       bundle.SourceHash(input.Source),
		ConfigSchema: schemaText,
		Priority:     input.Priority,
		Readme:       input.Readme,
		TestVectors:  string(input.TestVectors),
	}
	market := versionMarketRow{Namespace: name.Namespace, Description: input.Description}
	if s.signer != nil {
		market.Signature = s.signer.Sign(row.Name, row.Version, row.SHA256)
	}

	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := findPluginVersion(tx, input.Name, input.Version)
		if err == nil {
			return versionExists(input.Name, input.Version)
		}
		if !isNotFound(err) {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("publish plugin version %q: %w", bundle.Key(input.Name, input.Version), err)
		}
		market.ID = row.ID
		columns := map[string]any{"namespace": market.Namespace, "description": market.Description, "signature": market.Signature}
		if err := tx.Model(&versionMarketRow{ID: row.ID}).Updates(columns).Error; err != nil {
			return fmt.Errorf("publish plugin version %q: %w", bundle.Key(input.Name, input.Version), err)
		}
		return nil
	})
	if err != nil {
		return PluginVersion{}, err
	}
	return pluginVersionFromRow(&row, &market), nil
}

// compileSource runs the compiler outside any transaction, because
// compiling can take a while and must not hold the write lock.
func (s *Store) compileSource(input NewPluginVersion) error {
	err := s.compiler(input.Name, input.Version, input.Source)
	if err == nil {
		return nil
	}

	if unavailable := asUnavailable(err); unavailable != nil {
		return unavailable
	}
	var compileErr *CompileError
	if errors.As(err, &compileErr) {
		named := *compileErr
		named.File = sourceFile
		return &named
	}
	return fieldError("source", "compile check failed in %s: %v", sourceFile, err)
}

func pluginVersionFromRow(row *pluginVersionRow, market *versionMarketRow) PluginVersion {
	return PluginVersion{
		Name:         row.Name,
		Namespace:    market.Namespace,
		Version:      row.Version,
		Description:  market.Description,
		Source:       row.Source,
		SHA256:       row.SHA256,
		Signature:    market.Signature,
		Marks:        market.marks(),
		ConfigSchema: json.RawMessage(row.ConfigSchema),
		Priority:     row.Priority,
		Readme:       row.Readme,
		TestVectors:  testVectorsOf(row),
		PublishedAt:  row.CreatedAt,
	}
}

// ListPlugins returns every plugin name with its versions, ordered by name.
func (s *Store) ListPlugins(ctx context.Context) ([]PluginSummary, error) {
	var rows []pluginVersionRow
	err := s.reader.WithContext(ctx).Select("name", "version").Order("name").Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}

	return summarizeVersions(rows), nil
}

// summarizeVersions groups version rows ordered by name into one summary
// per plugin, keeping the rows' order of versions.
func summarizeVersions(rows []pluginVersionRow) []PluginSummary {
	plugins := []PluginSummary{}
	for _, row := range rows {
		last := len(plugins) - 1
		if last < 0 || plugins[last].Name != row.Name {
			plugins = append(plugins, PluginSummary{Name: row.Name, Versions: []string{}})
			last++
		}
		plugins[last].Versions = append(plugins[last].Versions, row.Version)
	}
	return plugins
}

// canonicalPluginName returns the stored form of a plugin name sent by a
// client, or the text unchanged when it is not a valid name, so that the
// lookup reports it as not found.
func canonicalPluginName(text string) string {
	name, err := ParsePluginName("plugin", text)
	if err != nil {
		return text
	}
	return name.String()
}

// GetPlugin returns a plugin with the details of each version. A name with
// no published version is not found.
func (s *Store) GetPlugin(ctx context.Context, name string) (Plugin, error) {
	name = canonicalPluginName(name)
	var rows []struct {
		Version      string
		SHA256       string `gorm:"column:sha256"`
		ConfigSchema string
		CreatedAt    time.Time
		Namespace    string
		Description  string
		DeprecatedAt *time.Time
		YankedAt     *time.Time
		Notice       string
	}
	err := s.reader.WithContext(ctx).Table("plugin_versions").
		Select("name", "version", "sha256", "config_schema", "created_at", "namespace", "description", "deprecated_at", "yanked_at", "notice").
		Where("name = ?", name).Order("id").Find(&rows).Error
	if err != nil {
		return Plugin{}, fmt.Errorf("read plugin %q: %w", name, err)
	}
	if len(rows) == 0 {
		return Plugin{}, &NotFoundError{Resource: "plugin", Name: name}
	}

	plugin := Plugin{Name: name, Namespace: rows[0].Namespace, Versions: make([]VersionInfo, 0, len(rows))}
	for _, row := range rows {
		market := versionMarketRow{DeprecatedAt: row.DeprecatedAt, YankedAt: row.YankedAt, Notice: row.Notice}
		plugin.Versions = append(plugin.Versions, VersionInfo{
			Version:      row.Version,
			SHA256:       row.SHA256,
			Description:  row.Description,
			Marks:        market.marks(),
			ConfigSchema: json.RawMessage(row.ConfigSchema),
			PublishedAt:  row.CreatedAt,
		})
	}
	return plugin, nil
}

// GetPluginVersion returns one published version with its source.
func (s *Store) GetPluginVersion(ctx context.Context, name, version string) (PluginVersion, error) {
	var found PluginVersion
	err := s.read(ctx, func(tx *gorm.DB) error {
		row, err := findPluginVersion(tx, canonicalPluginName(name), version)
		if err != nil {
			return err
		}
		market, err := findVersionMarket(tx, row.ID)
		if err != nil {
			return err
		}
		found = pluginVersionFromRow(row, market)
		return nil
	})
	return found, err
}

// DeletePluginVersion deletes a version that no binding or install of any
// tenant uses.
func (s *Store) DeletePluginVersion(ctx context.Context, name, version string) error {
	name = canonicalPluginName(name)
	return s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := findPluginVersion(tx, name, version)
		if err != nil {
			return err
		}

		dependents, err := pluginVersionUsers(tx, row)
		if err != nil {
			return err
		}
		if len(dependents) > 0 {
			return conflictWith(dependents, "plugin version %q is in use: delete these bindings and installs or move them to another version first", bundle.Key(name, version))
		}

		if err := tx.Model(&installRow{}).Where("previous_version_id = ?", row.ID).Update("previous_version_id", nil).Error; err != nil {
			return fmt.Errorf("delete plugin version %q: %w", bundle.Key(name, version), err)
		}
		if err := tx.Delete(row).Error; err != nil {
			return fmt.Errorf("delete plugin version %q: %w", bundle.Key(name, version), err)
		}
		return nil
	})
}

// pluginVersionUsers names the bindings and installs that use a plugin
// version, across tenants, as `binding "id" of tenant "slug"` and
// `install of tenant "slug"`.
func pluginVersionUsers(tx *gorm.DB, row *pluginVersionRow) ([]string, error) {
	var users []struct {
		PublicID string
		Slug     string
	}
	err := tx.Table("bindings").
		Select("bindings.public_id, tenants.slug").
		Joins("JOIN tenants ON tenants.id = bindings.tenant_id").
		Where("bindings.plugin_version_id = ?", row.ID).
		Order("tenants.slug").Order("bindings.id").
		Scan(&users).Error
	if err != nil {
		return nil, fmt.Errorf("find bindings of plugin version %q: %w", bundle.Key(row.Name, row.Version), err)
	}

	var installers []string
	err = tx.Table("plugin_installs").
		Joins("JOIN tenants ON tenants.id = plugin_installs.tenant_id").
		Where("plugin_installs.plugin_version_id = ?", row.ID).
		Order("tenants.slug").
		Pluck("tenants.slug", &installers).Error
	if err != nil {
		return nil, fmt.Errorf("find installs of plugin version %q: %w", bundle.Key(row.Name, row.Version), err)
	}

	dependents := make([]string, 0, len(users)+len(installers))
	for _, user := range users {
		dependents = append(dependents, fmt.Sprintf("binding %q of tenant %q", user.PublicID, user.Slug))
	}
	for _, slug := range installers {
		dependents = append(dependents, fmt.Sprintf("install of tenant %q", slug))
	}
	return dependents, nil
}
