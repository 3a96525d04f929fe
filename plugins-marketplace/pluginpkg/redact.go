package pluginpkg

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// quotedURL matches a Go-quoted string that contains "://", such as an
// upstream target in an error message.
var quotedURL = regexp.MustCompile(`"(?:[^"\\]|\\.)*://(?:[^"\\]|\\.)*"`)

// WithoutConfigValues returns the text of err without the parts that can
// contain a binding's config values, for logs and reports. The differences
// of a failed test vector quote what the plugin produced under the
// binding's config, so only the vector's name is kept. Quoted URLs, such
// as an invalid upstream target, can carry credentials or tokens, so each
// is replaced with "<URL removed>".
func WithoutConfigValues(err error) string {
	text := err.Error()

	var vectorErr *VectorError
	if errors.As(err, &vectorErr) {
		text = strings.Replace(text, vectorErr.Error(), fmt.Sprintf("test vector %q failed", vectorErr.Vector), 1)
	}
	return quotedURL.ReplaceAllString(text, `"<URL removed>"`)
}
