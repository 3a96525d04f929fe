package edgenode

import (
	"context"

	"portcullis.dev/edge/sync"
	"portcullis.dev/tenants/bundle"
)

// forwardSource passes Bundle calls to source, which is set before the
// edge starts serving.
type forwardSource struct {
	source *sync.Source
}

func (f *forwardSource) Bundle(ctx context.Context, tenant string) (*bundle.Bundle, error) {
	return f.source.Bundle(ctx, tenant)
}

// keep passes a bundle that the edge built and accepted to source, which
// keeps it as the last-known-good copy on disk.
func (f *forwardSource) keep(b *bundle.Bundle) {
	f.source.Keep(b)
}

// lastKnownGood returns the tenant's last-known-good bundle from source.
func (f *forwardSource) lastKnownGood(tenant string) *bundle.Bundle {
	return f.source.LastKnownGood(tenant)
}
