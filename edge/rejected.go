package edge

import (
	"portcullis.dev/edge/cache"
	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// RejectedRevisions returns, per tenant, the newest revision whose bundle
// failed to compile or pre-flight while the tenant kept serving an older
// revision, with the reason.
func (e *Edge) RejectedRevisions() map[string]cache.Rejection {
	return e.store.Rejected()
}

// rejectionReason returns the text of a failed build without the parts
// that can contain config values (pluginpkg.WithoutConfigValues), because
// the reason leaves the edge in its heartbeats.
func rejectionReason(err error) string {
	return pluginpkg.WithoutConfigValues(err)
}
