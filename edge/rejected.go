package edge

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"portcullis.dev/edge/cache"
	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// quotedURL matches a Go-quoted string that contains "://", such as an
// upstream target in an error message.
var quotedURL = regexp.MustCompile(`"(?:[^"\\]|\\.)*://(?:[^"\\]|\\.)*"`)

// RejectedRevisions returns, per tenant, the newest revision whose bundle
// failed to compile or pre-flight while the tenant kept serving an older
// revision, with the reason.
func (e *Edge) RejectedRevisions() map[string]cache.Rejection {
	return e.store.Rejected()
}

// rejectionReason returns the text of a failed build without the parts that
// can contain config values, because the reason leaves the edge in its
// heartbeats. The differences of a failed test vector quote what the plugin
// produced under the binding's config, so only the vector's name is kept.
// Quoted URLs, such as an invalid upstream target, can carry credentials or
// tokens, so each is replaced with "<URL removed>". The edge log keeps the
// whole error.
func rejectionReason(err error) string {
	reason := err.Error()

	var vectorErr *pluginpkg.VectorError
	if errors.As(err, &vectorErr) {
		reason = strings.Replace(reason, vectorErr.Error(), fmt.Sprintf("test vector %q failed", vectorErr.Vector), 1)
	}
	return quotedURL.ReplaceAllString(reason, `"<URL removed>"`)
}
