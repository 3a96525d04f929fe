package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// ListUserNamespaces returns the namespaces that the user with the public
// id userID is a member of, ordered by name, each with its members.
func (s *Store) ListUserNamespaces(ctx context.Context, userID string) ([]Namespace, error) {
	namespaces := []Namespace{}

	err := s.read(ctx, func(tx *gorm.DB) error {
		var rows []namespaceRow
		err := tx.Table("plugin_namespaces").
			Select("plugin_namespaces.id, plugin_namespaces.name, plugin_namespaces.owner_id, plugin_namespaces.created_at").
			Joins("JOIN plugin_namespace_members ON plugin_namespace_members.namespace_id = plugin_namespaces.id").
			Joins("JOIN users ON users.id = plugin_namespace_members.user_id").
			Where("users.public_id = ?", userID).
			Order("plugin_namespaces.name").
			Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("list namespaces of user %q: %w", userID, err)
		}

		for i := range rows {
			namespace, err := namespaceView(tx, &rows[i])
			if err != nil {
				return err
			}
			namespaces = append(namespaces, namespace)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return namespaces, nil
}

// ListNamespacePlugins returns the plugins published in the namespace,
// ordered by name, each with its versions oldest first. A namespace
// without plugins, or one that does not exist, has an empty list.
func (s *Store) ListNamespacePlugins(ctx context.Context, namespace string) ([]PluginSummary, error) {
	var rows []pluginVersionRow
	err := s.reader.WithContext(ctx).Select("name", "version").Where("namespace = ?", namespace).Order("name").Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list plugins of namespace %q: %w", namespace, err)
	}

	return summarizeVersions(rows), nil
}
