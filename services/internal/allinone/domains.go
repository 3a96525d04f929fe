package allinone

import (
	"context"
	"time"

	"portcullis.dev/edge/tlsconf"
	"portcullis.dev/portal/store"
)

// domainIndexTimeout bounds one read of the domain index from the store.
const domainIndexTimeout = 5 * time.Second

// domainIndexer keeps the edge's domain index equal to the store's. The
// edge and the portal share the store here, so the index is read again
// after every committed change instead of over the edge sync API.
type domainIndexer struct {
	store  *store.Store
	index  *tlsconf.Index
	server *Server
}

// refresh reads the index from the store and swaps it in. A failed read
// keeps the previous index and is logged.
func (d *domainIndexer) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), domainIndexTimeout)
	defer cancel()

	domains, err := d.store.DomainIndex(ctx)
	if err != nil {
		d.server.cfg.Logger.Error("reading the domain index failed; the edge keeps the previous one", "error", err)
		return
	}
	d.index.Replace(domains)
}

// onChange matches bundle.ChangeFunc.
func (d *domainIndexer) onChange(string, int64) {
	d.refresh()
}
