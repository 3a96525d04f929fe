package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
)

// BindingSchemas finds the config schemas of one tenant's bindings, so that
// their configs can be redacted by schema. It keeps each schema it has
// read, so a list of bindings reads each plugin version once. It is meant
// for one request and is not safe for concurrent use.
type BindingSchemas struct {
	store  *Store
	tenant string
	read   map[string]json.RawMessage
}

// BindingSchemas returns a lookup of the config schemas of tenant slug's
// bindings.
func (s *Store) BindingSchemas(slug string) *BindingSchemas {
	return &BindingSchemas{store: s, tenant: slug, read: map[string]json.RawMessage{}}
}

// Schema returns the config schema of the plugin version that a binding
// runs: plugin at version, or at the tenant's installed version when
// version is empty, as in a declarative document. A version that is not
// published, or a plugin that the tenant has not installed, has no schema:
// Schema returns nil and no error, and the caller redacts by name alone.
func (b *BindingSchemas) Schema(ctx context.Context, plugin, version string) (json.RawMessage, error) {
	name := canonicalPluginName(plugin)
	key := bundle.Key(name, version)
	if schema, found := b.read[key]; found {
		return schema, nil
	}

	var schema json.RawMessage
	err := b.store.read(ctx, func(tx *gorm.DB) error {
		text, err := bindingSchema(tx, b.tenant, name, version)
		if text != "" {
			schema = json.RawMessage(text)
		}
		return err
	})
	if isNotFound(err) {
		err = nil
	}
	if err != nil {
		return nil, err
	}

	b.read[key] = schema
	return schema, nil
}

func bindingSchema(tx *gorm.DB, slug, name, version string) (string, error) {
	query := tx.Model(&pluginVersionRow{})
	if version != "" {
		query = query.Where("name = ? AND version = ?", name, version)
	} else {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return "", err
		}
		install, err := findInstall(tx, tenant, name)
		if err != nil {
			return "", err
		}
		query = query.Where("id = ?", install.PluginVersionID)
	}

	var schemas []string
	if err := query.Limit(1).Pluck("config_schema", &schemas).Error; err != nil {
		return "", fmt.Errorf("read config schema of plugin version %q: %w", bundle.Key(name, version), err)
	}
	if len(schemas) == 0 {
		return "", nil
	}
	return schemas[0], nil
}
