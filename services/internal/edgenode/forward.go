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
