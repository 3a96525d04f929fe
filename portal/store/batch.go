package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// ErrRevisionMoved is returned by Batch when the tenant's revision is not
// the one the caller planned against.
var ErrRevisionMoved = errors.New("the tenant changed since the plan was made")

// batchKey is the context key of an open batch.
type batchKey struct{}

// batch is one tenant write transaction that several store writes share.
type batch struct {
	slug    string
	tx      *gorm.DB
	tenant  *tenantRow
	changes int
}

// Batch runs write with a context in which every write of the tenant's
// resources (CreateRoute, UpdateBinding and the like) joins one
// transaction, so the writes land together under one new revision or not
// at all. It fails with ErrRevisionMoved, and writes nothing, when
// revision is not negative and the tenant is no longer at it. It returns
// the new revision, or the current one when write changed nothing.
func (s *Store) Batch(ctx context.Context, slug string, revision int64, resource string, write func(ctx context.Context) error) (int64, error) {
	if _, nested := ctx.Value(batchKey{}).(*batch); nested {
		return 0, errors.New("a batch is already open in this context")
	}

	var b *batch
	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tenant, err := lockTenant(tx, slug)
		if err != nil {
			return err
		}
		if revision >= 0 && tenant.Revision != revision {
			return fmt.Errorf("tenant %q is at revision %d, not %d: %w", slug, tenant.Revision, revision, ErrRevisionMoved)
		}

		b = &batch{slug: slug, tx: tx, tenant: tenant}
		if err := write(context.WithValue(ctx, batchKey{}, b)); err != nil {
			return err
		}
		if b.changes == 0 {
			return nil
		}
		_, err = raiseRevision(tx, tenant, change{kind: KindUpdate, resource: resource})
		return err
	})
	if err != nil {
		return 0, err
	}

	if b.changes > 0 {
		s.notify(slug, b.tenant.Revision)
	}
	return b.tenant.Revision, nil
}

// inBatch runs apply inside the context's open batch and reports true, or
// reports false when the context has none.
func inBatch(ctx context.Context, slug string, apply func(tx *gorm.DB, tenant *tenantRow) (change, error)) (bool, error) {
	b, ok := ctx.Value(batchKey{}).(*batch)
	if !ok {
		return false, nil
	}
	if b.slug != slug {
		return true, fmt.Errorf("a batch of tenant %q cannot write tenant %q", b.slug, slug)
	}

	if _, err := apply(b.tx, b.tenant); err != nil {
		return true, err
	}
	b.changes++
	return true, nil
}
