package edge

import (
	"errors"

	"portcullis.dev/edge/cache"
	"portcullis.dev/edge/preflight"
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

// unjudged reports whether a failed build is a pre-flight that did not run,
// for want of a check worker or of time. Such a build is no rejection:
// the cache builds the bundle again with back-off (cache.Options.Retry).
func unjudged(err error) bool {
	return errors.Is(err, preflight.ErrNotRun)
}
