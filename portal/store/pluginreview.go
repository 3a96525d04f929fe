package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
)

// reviewRow is the reviewed mark of a plugin version.
type reviewRow struct {
	ID       uint
	Reviewed bool
}

func (reviewRow) TableName() string { return "plugin_versions" }

// PluginReview is a plugin version's reviewed mark and the tenants whose
// bundles changed with it.
type PluginReview struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Reviewed bool   `json:"reviewed"`
	// Tenants are the slugs of the tenants with a binding of the version,
	// each at a new revision.
	Tenants []string `json:"tenants"`
}

// SetPluginReviewed sets the reviewed mark of a plugin version. Only the
// operator may: the bindings of a reviewed version run inside the edge
// process. Each tenant with a binding of the version gets a new revision,
// so its edges move the bindings to the other tier.
//
// NOTE: the mark and each tenant's revision commit in separate
// transactions, so a failure between them leaves some tenants at their old
// revision until their next change.
func (s *Store) SetPluginReviewed(ctx context.Context, by Publisher, name, version string, reviewed bool) (PluginReview, error) {
	if !by.Operator {
		return PluginReview{}, errors.New("set plugin review: only the operator may mark a plugin version reviewed")
	}
	review := PluginReview{Name: name, Version: version, Reviewed: reviewed, Tenants: []string{}}

	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := findPluginVersion(tx, name, version)
		if err != nil {
			return err
		}
		if err := tx.Model(&reviewRow{}).Where("id = ?", row.ID).Update("reviewed", reviewed).Error; err != nil {
			return fmt.Errorf("mark plugin version %q reviewed: %w", bundle.Key(name, version), err)
		}
		return tx.Model(&bindingRow{}).
			Distinct("tenants.slug").
			Joins("JOIN tenants ON tenants.id = bindings.tenant_id").
			Where("bindings.plugin_version_id = ?", row.ID).
			Order("tenants.slug").
			Pluck("tenants.slug", &review.Tenants).Error
	})
	if err != nil {
		return PluginReview{}, err
	}

	for _, slug := range review.Tenants {
		_, err := s.writeTenant(ctx, slug, func(*gorm.DB, *tenantRow) (change, error) {
			return change{kind: KindUpdate, resource: "plugin/" + bundle.Key(name, version) + "/review"}, nil
		})
		if err != nil {
			return review, fmt.Errorf("raise the revision of tenant %q after the review of %q: %w", slug, bundle.Key(name, version), err)
		}
	}
	return review, nil
}

// pluginReviews returns the reviewed marks of the versions with the ids.
func pluginReviews(tx *gorm.DB, versionIDs []uint) (map[uint]bool, error) {
	var rows []reviewRow
	if err := tx.Select("id", "reviewed").Where("id IN ?", versionIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read plugin reviews: %w", err)
	}
	reviews := make(map[uint]bool, len(rows))
	for _, row := range rows {
		reviews[row.ID] = row.Reviewed
	}
	return reviews, nil
}
