package pluginhost

import "net/http"

// Limits of the values that hooks put into an Exchange or send in a host
// call. A sandboxed hook's Exchange travels back to the edge in one worker
// frame of at most 8 MiB (worker.MaxFrame). An Exchange within these
// limits stays well below it, because it carries at most two headers of
// MaxHeaderBytes, ctx.vars of MaxVarsBytes, and an exit body of
// MaxExitBody or a chunk of MaxChunk, which no phase returns together. The
// host functions raise an error that names the limit instead of storing a
// larger value.
const (
	// MaxExitBody caps the body of ctx.exit, in bytes, like
	// MaxBufferedBody.
	MaxExitBody = 1 << 20
	// MaxHeaderField caps one header field that set_header sets: the
	// length of its name plus the length of its value, in bytes.
	MaxHeaderField = 8 << 10
	// MaxHeaderBytes caps a request or response header that set_header
	// makes larger: the lengths of the names and values of all its fields,
	// in bytes. A header that the client or the upstream sent above it
	// can still lose fields or have them replaced by shorter ones.
	MaxHeaderBytes = 256 << 10
	// MaxVarsBytes caps ctx.vars after each hook, as counted by PlainBytes.
	MaxVarsBytes = 64 << 10
	// MaxPath caps the path that ctx.req.set_path sets, in bytes.
	MaxPath = 8 << 10
	// MaxChunk caps the chunk that ctx.resp.set_chunk sets, in bytes. It
	// leaves room for a hook that rewrites a buffered body of
	// MaxBufferedBody into a longer one.
	MaxChunk = 4 << 20
	// MaxFetchRequestBody caps the body that ctx.http.request sends, in
	// bytes, like MaxFetchBody caps the body it returns.
	MaxFetchRequestBody = 1 << 20
)

// scalarBytes is the size that PlainBytes counts for a nil, bool, int or
// float, and for each list and map on top of its contents.
const scalarBytes = 8

// headerBytes returns the lengths of the names and values of all fields
// of h, which MaxHeaderBytes caps.
func headerBytes(h http.Header) int {
	total := 0
	for name, values := range h {
		total += fieldBytes(name, values)
	}
	return total
}

// fieldBytes returns the lengths of a field's name and values, counting
// the name once per value as it appears on the wire.
func fieldBytes(name string, values []string) int {
	total := 0
	for _, value := range values {
		total += len(name) + len(value)
	}
	return total
}

// PlainBytes returns the size of a JSON-like value in plain form (see
// toPlain), such as ctx.vars or a log line's fields: the length of each
// string and map key, and scalarBytes for every other value, list and map.
// It stops counting once the size is above limit, so a huge value costs
// no more than limit to measure.
func PlainBytes(value any, limit int) int {
	switch value := value.(type) {
	case string:
		return len(value)
	case []any:
		total := scalarBytes
		for _, item := range value {
			if total > limit {
				break
			}
			total += PlainBytes(item, limit-total)
		}
		return total
	case map[string]any:
		total := scalarBytes
		for key, item := range value {
			if total > limit {
				break
			}
			total += len(key) + PlainBytes(item, limit-total-len(key))
		}
		return total
	}
	return scalarBytes
}
