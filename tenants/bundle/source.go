package bundle

import "context"

// Source returns the current bundle of a tenant. The portal's store is a
// Source; later a remote sync client and caches will be too.
type Source interface {
	// Bundle returns the newest bundle of the tenant with the slug, or an
	// error wrapping ErrTenantNotFound.
	Bundle(ctx context.Context, tenant string) (*Bundle, error)
}

// ChangeFunc is called after a tenant's config changed and its revision grew.
type ChangeFunc func(tenant string, revision int64)
