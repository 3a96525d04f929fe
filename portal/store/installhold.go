package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// HeldBack is the newest version in an install's range that a release did
// not move the install to, because a binding that follows the install
// fails it. It stays on the install until a later move succeeds or the
// tenant changes the install.
type HeldBack struct {
	Version string `json:"version"`
	// Binding is the id of the binding whose config the version rejects.
	Binding string `json:"binding"`
	// Vector names the test vector marked binding_config that fails with
	// the binding's config. It is empty when the config does not match the
	// version's config_schema, or when the vectors could not run.
	Vector string `json:"vector,omitempty"`
	// Message describes what failed, in English: the vector's differences, the
	// schema errors, or why the vectors could not run. It can quote the
	// binding's config, so the API shows it only to the tenant's
	// developers and above.
	Message string `json:"message"`
	// At is when the move was held back.
	At time.Time `json:"at"`
}

// errInstallChanged ends the write of a held-back version when the install
// changed after the follow read it, so the change has already checked the
// following bindings itself.
var errInstallChanged = errors.New("install changed while its follow ran")

// holdBack records rejected on the install that seen was read from, and
// logs it. It raises no revision, because the tenant's bundle stays as it
// is. An install that moved or changed since seen keeps its state.
func (s *Store) holdBack(ctx context.Context, slug string, seen *installRow, rejected *followerRejected) error {
	heldBack := HeldBack{Version: rejected.version.Version, Binding: rejected.binding, Vector: rejected.vector, Message: rejected.reason}

	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tenant, err := lockTenant(tx, slug)
		if err != nil {
			return err
		}
		row, err := findInstall(tx, tenant, seen.Plugin)
		if err != nil {
			return err
		}
		if row.PluginVersionID != seen.PluginVersionID || !row.UpdatedAt.Equal(seen.UpdatedAt) {
			return errInstallChanged
		}

		heldBack.At = tx.NowFunc().Truncate(time.Microsecond)
		encoded, err := json.Marshal(heldBack)
		if err != nil {
			return fmt.Errorf("encode held-back version %q: %w", heldBack.Version, err)
		}
		if err := tx.Model(&installRow{ID: row.ID}).Update("held_back", string(encoded)).Error; err != nil {
			return fmt.Errorf("record held-back version %q on install of plugin %q in tenant %q: %w", heldBack.Version, seen.Plugin, slug, err)
		}
		return nil
	})
	if errors.Is(err, errInstallChanged) || isNotFound(err) {
		s.logger.Info("install changed while its follow ran, so no held-back version is recorded", "tenant", slug, "plugin", seen.Plugin, "version", heldBack.Version)
		return nil
	}
	if err != nil {
		return err
	}

	// The message stays out of the log, because the vector's differences
	// and the schema errors can quote the binding's config.
	s.logger.Warn("install held back: a binding that follows it fails the newest version in its range",
		"tenant", slug, "plugin", seen.Plugin, "version", heldBack.Version, "binding", heldBack.Binding, "vector", heldBack.Vector, "schema_mismatch", rejected.bySchema)
	return nil
}

// decodeHeldBack returns the held-back version of the install, or nil.
func decodeHeldBack(row *installRow) (*HeldBack, error) {
	if row.HeldBack == "" {
		return nil, nil
	}
	var heldBack HeldBack
	if err := json.Unmarshal([]byte(row.HeldBack), &heldBack); err != nil {
		return nil, fmt.Errorf("decode held_back of the install of plugin %q: %w", row.Plugin, err)
	}
	return &heldBack, nil
}
