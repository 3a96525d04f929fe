package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// FeedChannel is the PostgreSQL NOTIFY channel that carries the id of each
// new change event, so that every portal replica wakes its feed readers.
const FeedChannel = "portcullis_changes"

// feedLockKey is the pg_advisory_xact_lock key that orders change events.
// It is an arbitrary constant that no other part of Portcullis uses.
const feedLockKey int64 = 0x706f7274_66656564

// Change kinds recorded in the change log.
const (
	KindCreate = "create"
	KindUpdate = "update"
	KindDelete = "delete"
)

// ChangeEvent is one entry of a tenant's change log: the write that raised
// the tenant to Revision.
type ChangeEvent struct {
	Tenant   string `json:"tenant"`
	Revision int64  `json:"revision"`
	// Kind is KindCreate, KindUpdate or KindDelete.
	Kind string `json:"kind"`
	// Resource names what changed, such as "tenant/acme", "upstream/backend",
	// "route/all" or "binding/bnd_0123456789abcdef".
	Resource string    `json:"resource"`
	Time     time.Time `json:"time"`
}

// change describes one write for the change log.
type change struct {
	kind     string
	resource string
}

// writeTenant runs apply in a write transaction on the tenant with the slug,
// then raises the tenant's revision by one and appends a change event in the
// same transaction. After the commit it notifies the listeners and returns the
// new revision. Any error rolls the whole transaction back.
//
// Inside a Batch, apply joins the batch's transaction instead, and the batch
// raises the revision once when it commits; writeTenant then returns 0.
func (s *Store) writeTenant(ctx context.Context, slug string, apply func(tx *gorm.DB, tenant *tenantRow) (change, error)) (int64, error) {
	if batched, err := inBatch(ctx, slug, apply); batched {
		return 0, err
	}

	var revision int64

	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tenant, err := lockTenant(tx, slug)
		if err != nil {
			return err
		}

		done, err := apply(tx, tenant)
		if err != nil {
			return err
		}

		revision, err = raiseRevision(tx, tenant, done)
		return err
	})
	if err != nil {
		return 0, err
	}

	s.notify(slug, revision)
	return revision, nil
}

// raiseRevision adds one to the tenant's revision and logs the change. The
// update matches the revision read earlier in the transaction, so a writer
// that bypassed BEGIN IMMEDIATE would fail here instead of reusing a revision.
func raiseRevision(tx *gorm.DB, tenant *tenantRow, done change) (int64, error) {
	revision := tenant.Revision + 1
	now := tx.NowFunc()

	result := tx.Model(&tenantRow{}).
		Where("id = ? AND revision = ?", tenant.ID, tenant.Revision).
		Updates(map[string]any{"revision": revision, "updated_at": now})
	if result.Error != nil {
		return 0, fmt.Errorf("raise revision of tenant %q: %w", tenant.Slug, result.Error)
	}
	if result.RowsAffected != 1 {
		return 0, fmt.Errorf("raise revision of tenant %q: revision %d changed during the transaction", tenant.Slug, tenant.Revision)
	}

	tenant.Revision = revision
	tenant.UpdatedAt = now

	if err := appendChangeEvent(tx, tenant.Slug, revision, done); err != nil {
		return 0, err
	}
	return revision, nil
}

// appendChangeEvent inserts the change event. On PostgreSQL it first takes
// the feed's transaction-level advisory lock, so events commit in the order
// of their ids and a feed reader never sees an id before a smaller one, and
// it queues a NOTIFY that PostgreSQL sends at commit.
func appendChangeEvent(tx *gorm.DB, slug string, revision int64, done change) error {
	postgres := isPostgres(tx)
	if postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", feedLockKey).Error; err != nil {
			return fmt.Errorf("lock change feed for tenant %q: %w", slug, err)
		}
	}

	event := changeEventRow{
		Tenant:   slug,
		Revision: revision,
		Kind:     done.kind,
		Resource: done.resource,
		Time:     tx.NowFunc(),
	}
	if err := tx.Create(&event).Error; err != nil {
		return fmt.Errorf("append change event %d of tenant %q: %w", revision, slug, err)
	}

	if postgres {
		if err := tx.Exec("SELECT pg_notify(?, ?)", FeedChannel, fmt.Sprint(event.ID)).Error; err != nil {
			return fmt.Errorf("notify change event %d of tenant %q: %w", revision, slug, err)
		}
	}
	return nil
}

// lockTenant loads the tenant with the slug for a write. On PostgreSQL it
// locks the row (SELECT ... FOR UPDATE) until the transaction ends, so
// concurrent writers of one tenant take turns and never reuse a revision.
// SQLite ignores the clause because its writers are already serialized.
func lockTenant(tx *gorm.DB, slug string) (*tenantRow, error) {
	return findTenant(tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}), slug)
}

func isPostgres(tx *gorm.DB) bool {
	return tx.Dialector.Name() == "postgres"
}

// lastRevision returns the highest revision ever logged for the slug, or 0.
func lastRevision(tx *gorm.DB, slug string) (int64, error) {
	var revision int64
	err := tx.Model(&changeEventRow{}).
		Where("tenant = ?", slug).
		Select("COALESCE(MAX(revision), 0)").
		Scan(&revision).Error
	if err != nil {
		return 0, fmt.Errorf("read last revision of tenant %q: %w", slug, err)
	}
	return revision, nil
}

// ChangeEvents returns the change log of the slug, oldest first. The log
// also keeps the events of a deleted tenant.
func (s *Store) ChangeEvents(ctx context.Context, slug string) ([]ChangeEvent, error) {
	var rows []changeEventRow
	err := s.reader.WithContext(ctx).
		Where("tenant = ?", slug).
		Order("revision").
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list change events of tenant %q: %w", slug, err)
	}

	events := make([]ChangeEvent, 0, len(rows))
	for _, row := range rows {
		events = append(events, ChangeEvent{
			Tenant:   row.Tenant,
			Revision: row.Revision,
			Kind:     row.Kind,
			Resource: row.Resource,
			Time:     row.Time,
		})
	}
	return events, nil
}
