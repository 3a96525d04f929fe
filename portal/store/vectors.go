package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Limits of a plugin version's package fields.
const (
	// MaxReadmeLength is the maximum size of a README in bytes.
	MaxReadmeLength = 64 << 10
	// MaxTestVectorsLength is the maximum size of the test vectors' JSON.
	MaxTestVectorsLength = 256 << 10
)

// Tester runs a plugin version's test vectors at publish time. It returns
// nil when every vector passes, a *VectorError for the first failing
// vector, an *UnavailableError when the vectors did not run for want of
// capacity, and any other error for vectors that are invalid.
type Tester func(ctx context.Context, name, version, source string, vectors json.RawMessage) error

// VectorError reports a test vector that failed at publish time.
type VectorError struct {
	Vector string
	// Differences lists what differed from the vector's expectation.
	Differences []string
}

// Error names the vector and what differed.
func (e *VectorError) Error() string {
	return fmt.Sprintf("test vector %q failed: %s", e.Vector, strings.Join(e.Differences, "; "))
}

// checkTestVectors checks that test_vectors is absent, null or a JSON
// array, and stores it compact.
func checkTestVectors(input *NewPluginVersion) error {
	trimmed := bytes.TrimSpace(input.TestVectors)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		input.TestVectors = json.RawMessage("[]")
		return nil
	}
	if len(trimmed) > MaxTestVectorsLength {
		return fieldError("test_vectors", "test_vectors is %d bytes, above the limit of %d", len(trimmed), MaxTestVectorsLength)
	}
	if trimmed[0] != '[' {
		return fieldError("test_vectors", "test_vectors must be a JSON array of vectors")
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, trimmed); err != nil {
		return fieldError("test_vectors", "test_vectors is invalid JSON: %v", err)
	}
	input.TestVectors = compact.Bytes()
	return nil
}

// testVectors runs the version's vectors through the Tester, outside any
// transaction. A failure that is neither a *VectorError nor an
// *UnavailableError rejects the field.
func (s *Store) testVectors(ctx context.Context, input NewPluginVersion) error {
	if s.tester == nil || string(input.TestVectors) == "[]" {
		return nil
	}

	// The hooks of a vector each have a deadline, and the whole run has
	// the one of a binding's vectors, so a version whose many vectors
	// each run just under the hook deadline cannot hold a publish for
	// hours.
	ctx, cancel := context.WithTimeout(ctx, bindingVectorsTimeout)
	defer cancel()
	err := s.tester(ctx, input.Name, input.Version, input.Source, input.TestVectors)
	if err == nil {
		return nil
	}
	if unavailable := asUnavailable(err); unavailable != nil {
		return unavailable
	}
	var vectorErr *VectorError
	if errors.As(err, &vectorErr) {
		return vectorErr
	}
	if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return fieldError("test_vectors", "test_vectors did not finish within %s: use fewer vectors, fewer repeats or faster hooks", bindingVectorsTimeout)
	}
	return fieldError("test_vectors", "%v", err)
}

// testVectorsOf returns the row's test vectors, or nil when it has none,
// so bundles of versions without vectors keep their earlier JSON and hash.
func testVectorsOf(row *pluginVersionRow) json.RawMessage {
	if row.TestVectors == "" || row.TestVectors == "[]" {
		return nil
	}
	return json.RawMessage(row.TestVectors)
}
