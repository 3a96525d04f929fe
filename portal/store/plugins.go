package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// MaxSourceLength is the maximum size of plugin source in bytes.
const MaxSourceLength = 256 << 10

// maxVersionLength caps a semantic version, whose pre-release and build
// parts have no length limit of their own.
const maxVersionLength = 128

// NewPluginVersion is the input that publishes a plugin version.
type NewPluginVersion struct {
	Name    string
	Version string
	Source  string
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
}

// PluginVersion is one published version with its source.
type PluginVersion struct {
	Name         string          `json:"name"`
	Version      string          `json:"version"`
	Source       string          `json:"source"`
	SHA256       string          `json:"sha256"`
	ConfigSchema json.RawMessage `json:"config_schema"`
	Priority     int             `json:"priority"`
	Readme       string          `json:"readme"`
	TestVectors  json.RawMessage `json:"test_vectors"`
	PublishedAt  time.Time       `json:"published_at"`
}

// VersionInfo describes a published version without its source.
type VersionInfo struct {
	Version      string          `json:"version"`
	SHA256       string          `json:"sha256"`
	ConfigSchema json.RawMessage `json:"config_schema"`
	PublishedAt  time.Time       `json:"published_at"`
}

// Plugin is a plugin name with all its published versions, oldest first.
type Plugin struct {
	Name     string        `json:"name"`
	Versions []VersionInfo `json:"versions"`
}

// PluginSummary is a plugin name with its version strings, oldest first.
type PluginSummary struct {
	Name     string   `json:"name"`
	Versions []string `json:"versions"`
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

func validatePluginVersion(input *NewPluginVersion) error {
	if err := config.ValidateName("name", input.Name); err != nil {
		return err
	}
	if len(input.Version) > maxVersionLength {
		return fieldError("version", "version is %d characters, above the limit of %d", len(input.Version), maxVersionLength)
	}
	if err := config.ValidateVersion("version", input.Version); err != nil {
		return err
	}
	if input.Source == "" {
		return fieldError("source", "source is missing: send the plugin's Risor source code")
	}
	if input.Priority < -config.MaxPriority || input.Priority > config.MaxPriority {
		return fieldError("priority", "priority %d is out of range: use %d to %d", input.Priority, -config.MaxPriority, config.MaxPriority)
	}
	if len(input.Source) > MaxSourceLength {
		return fieldError("source", "source is %d bytes, above the limit of %d", len(input.Source), MaxSourceLength)
	}
	if len(input.Readme) > MaxReadmeLength {
		return fieldError("readme", "readme is %d bytes, above the limit of %d", len(input.Readme), MaxReadmeLength)
	}
	return checkTestVectors(input)
}

// PublishPlugin stores a new immutable plugin version after its source
// compiles and its config schema is a valid JSON Schema. Publishing a name
// and version that exist already is a ConflictError. A compile failure
// returns the compiler's *CompileError or a *config.FieldError on "source".
func (s *Store) PublishPlugin(ctx context.Context, input NewPluginVersion) (PluginVersion, error) {
	if err := validatePluginVersion(&input); err != nil {
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
	err = s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := findPluginVersion(tx, input.Name, input.Version)
		if err == nil {
			return &ConflictError{Message: fmt.Sprintf("plugin version %q already exists: versions are immutable, so publish a new version", bundle.Key(input.Name, input.Version))}
		}
		if !isNotFound(err) {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("publish plugin version %q: %w", bundle.Key(input.Name, input.Version), err)
		}
		return nil
	})
	if err != nil {
		return PluginVersion{}, err
	}
	return pluginVersionFromRow(&row), nil
}

// compileSource runs the compiler outside any transaction, because
// compiling can take a while and must not hold the write lock.
func (s *Store) compileSource(input NewPluginVersion) error {
	err := s.compiler(input.Name, input.Version, input.Source)
	if err == nil {
		return nil
	}

	var compileErr *CompileError
	if errors.As(err, &compileErr) {
		return compileErr
	}
	return fieldError("source", "source does not compile: %v", err)
}

func pluginVersionFromRow(row *pluginVersionRow) PluginVersion {
	return PluginVersion{
		Name:         row.Name,
		Version:      row.Version,
		Source:       row.Source,
		SHA256:       row.SHA256,
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

	plugins := []PluginSummary{}
	for _, row := range rows {
		last := len(plugins) - 1
		if last < 0 || plugins[last].Name != row.Name {
			plugins = append(plugins, PluginSummary{Name: row.Name, Versions: []string{}})
			last++
		}
		plugins[last].Versions = append(plugins[last].Versions, row.Version)
	}
	return plugins, nil
}

// GetPlugin returns a plugin with the details of each version. A name with
// no published version is not found.
func (s *Store) GetPlugin(ctx context.Context, name string) (Plugin, error) {
	var rows []pluginVersionRow
	err := s.reader.WithContext(ctx).
		Select("name", "version", "sha256", "config_schema", "created_at").
		Where("name = ?", name).Order("id").Find(&rows).Error
	if err != nil {
		return Plugin{}, fmt.Errorf("read plugin %q: %w", name, err)
	}
	if len(rows) == 0 {
		return Plugin{}, &NotFoundError{Resource: "plugin", Name: name}
	}

	plugin := Plugin{Name: name, Versions: make([]VersionInfo, 0, len(rows))}
	for _, row := range rows {
		plugin.Versions = append(plugin.Versions, VersionInfo{
			Version:      row.Version,
			SHA256:       row.SHA256,
			ConfigSchema: json.RawMessage(row.ConfigSchema),
			PublishedAt:  row.CreatedAt,
		})
	}
	return plugin, nil
}

// GetPluginVersion returns one published version with its source.
func (s *Store) GetPluginVersion(ctx context.Context, name, version string) (PluginVersion, error) {
	row, err := findPluginVersion(s.reader.WithContext(ctx), name, version)
	if err != nil {
		return PluginVersion{}, err
	}
	return pluginVersionFromRow(row), nil
}

// DeletePluginVersion deletes a version that no binding of any tenant uses.
func (s *Store) DeletePluginVersion(ctx context.Context, name, version string) error {
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
			return &ConflictError{
				Message:    fmt.Sprintf("plugin version %q is in use: delete these bindings or move them to another version first", bundle.Key(name, version)),
				Dependents: dependents,
			}
		}

		if err := tx.Delete(row).Error; err != nil {
			return fmt.Errorf("delete plugin version %q: %w", bundle.Key(name, version), err)
		}
		return nil
	})
}

// pluginVersionUsers names the bindings that use a plugin version, across
// tenants, as `binding "id" of tenant "slug"`.
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

	dependents := make([]string, 0, len(users))
	for _, user := range users {
		dependents = append(dependents, fmt.Sprintf("binding %q of tenant %q", user.PublicID, user.Slug))
	}
	return dependents, nil
}
