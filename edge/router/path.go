package router

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalidPath is wrapped by the errors of CleanPath. The edge responds
// to such requests with 400.
var ErrInvalidPath = errors.New("invalid request path")

// Path is a request path in the two forms that CleanPath returns.
type Path struct {
	// Decoded is the path that routes match, with every escape decoded.
	Decoded string
	// Escaped is the path sent to the upstream. It decodes to Decoded.
	Escaped string
}

// CleanPath applies the edge's path policy to an escaped request path, as
// received in the request target (docs/paths.md):
//
//   - An encoded "/" or "\" (%2F, %5C), a literal "\" and a control
//     character, literal or encoded, make the path invalid, so the segments
//     that routes match are the segments that the upstream receives.
//   - Escapes of unreserved characters are decoded and the hex digits of
//     the others upper-cased (RFC 3986 section 6.2.2), and characters that
//     RFC 3986 does not allow in a path are escaped.
//   - Empty, "." and ".." segments are removed after decoding, so "%2e%2e"
//     is "..", and ".." never climbs above "/". A trailing slash stays.
//
// A path that does not start with "/", such as "*", is returned unchanged.
// The error wraps ErrInvalidPath.
func CleanPath(escaped string) (Path, error) {
	if escaped == "" || escaped[0] != '/' {
		return Path{Decoded: escaped, Escaped: escaped}, nil
	}
	if isClean(escaped) {
		return Path{Decoded: escaped, Escaped: escaped}, nil
	}

	raw := strings.Split(escaped[1:], "/")
	resolved := make([]string, 0, len(raw))
	for _, part := range raw {
		segment, err := normalizeSegment(part)
		if err != nil {
			return Path{}, fmt.Errorf("%w: %q: %w", ErrInvalidPath, escaped, err)
		}

		switch segment {
		case "", ".":
		case "..":
			if len(resolved) > 0 {
				resolved = resolved[:len(resolved)-1]
			}
		default:
			resolved = append(resolved, segment)
		}
	}

	cleaned := "/" + strings.Join(resolved, "/")
	if len(resolved) > 0 && strings.HasSuffix(escaped, "/") {
		cleaned += "/"
	}
	decoded, err := url.PathUnescape(cleaned)
	if err != nil {
		// normalizeSegment emits only valid escapes, so this is a bug.
		return Path{}, fmt.Errorf("%w: %q: %w", ErrInvalidPath, escaped, err)
	}
	return Path{Decoded: decoded, Escaped: cleaned}, nil
}

// isClean reports whether path needs no change: only characters allowed
// unescaped in a path, no empty segment before the end and no segment
// that starts with a dot.
func isClean(path string) bool {
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' {
			if i+1 < len(path) && (path[i+1] == '/' || path[i+1] == '.') {
				return false
			}
			continue
		}
		if !isPathChar(c) {
			return false
		}
	}
	return true
}

// normalizeSegment returns one segment in normal form: escapes of
// unreserved characters decoded, other escapes upper-case, disallowed
// characters escaped. It rejects encoded "/" and "\", a literal "\" and
// control characters.
func normalizeSegment(segment string) (string, error) {
	var out strings.Builder
	out.Grow(len(segment))
	for i := 0; i < len(segment); i++ {
		c := segment[i]
		switch {
		case c == '%':
			if i+2 >= len(segment) || !isHex(segment[i+1]) || !isHex(segment[i+2]) {
				return "", fmt.Errorf("invalid escape at byte %d", i)
			}
			decoded := unhex(segment[i+1])<<4 | unhex(segment[i+2])
			if err := checkByte(decoded, true); err != nil {
				return "", err
			}
			writeByte(&out, decoded, isUnreserved(decoded))
			i += 2
		default:
			if err := checkByte(c, false); err != nil {
				return "", err
			}
			writeByte(&out, c, isPathChar(c))
		}
	}
	return out.String(), nil
}

func checkByte(c byte, encoded bool) error {
	switch {
	case encoded && c == '/':
		return errors.New("encoded slash %2F")
	case c == '\\':
		return errors.New("backslash")
	case c < 0x20 || c == 0x7f:
		return fmt.Errorf("control character 0x%02X", c)
	}
	return nil
}

// writeByte writes c literally or as an upper-case escape.
func writeByte(out *strings.Builder, c byte, literal bool) {
	if literal {
		out.WriteByte(c)
		return
	}
	const hexDigits = "0123456789ABCDEF"
	out.WriteByte('%')
	out.WriteByte(hexDigits[c>>4])
	out.WriteByte(hexDigits[c&15])
}

// isPathChar reports whether c may appear unescaped in a path segment:
// pchar of RFC 3986 section 3.3 without the "%" of an escape, so that
// isClean sends every escape through normalizeSegment.
func isPathChar(c byte) bool {
	if isUnreserved(c) {
		return true
	}
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@':
		return true
	}
	return false
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
