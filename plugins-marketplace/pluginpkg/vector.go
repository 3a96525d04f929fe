package pluginpkg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Limits of a test vector.
const (
	// MaxRepeat bounds Vector.Repeat.
	MaxRepeat = 100
	// MaxVectors bounds the vectors of one package.
	MaxVectors = 200
)

// RequirementRedis marks a vector that needs a Redis for ctx.limit.redis.
// A runner without Redis skips it.
const RequirementRedis = "redis"

// Vector is one test of a plugin: a request in, and the outcome expected of
// the plugin's hooks and a simulated upstream.
type Vector struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Request is the client request.
	Request VectorRequest `json:"request"`
	// Config is the binding config that the vector runs with. Absent
	// means {}, unless BindingConfig is set.
	Config json.RawMessage `json:"config,omitempty"`
	// BindingConfig marks a vector without Config that states what must
	// hold under any binding's config. Publishing and "portcullis plugin
	// test" skip it, and the edge's pre-flight runs it with the config of
	// each binding of the version.
	BindingConfig bool `json:"binding_config,omitempty"`
	// Upstream is the simulated upstream response.
	Upstream Upstream `json:"upstream"`
	// Repeat sends the request this many times, each on a new exchange but
	// sharing the host state, and checks the last outcome. Zero means 1.
	Repeat int `json:"repeat,omitempty"`
	// Requires lists services that the vector needs, such as "redis".
	Requires []string `json:"requires,omitempty"`
	// Consumers are the tenant's consumers that ctx.consumer finds. None
	// runs the vector as a tenant without consumers.
	Consumers []VectorConsumer `json:"consumers,omitempty"`
	Expect    Expect           `json:"expect"`
}

// VectorRequest is the client request of a vector.
type VectorRequest struct {
	// Method defaults to GET and Path to "/".
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query is the raw query string without "?".
	Query   string            `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// Upstream is the simulated upstream response of a vector.
type Upstream struct {
	// Status defaults to 200.
	Status  int               `json:"status,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// Expect is the outcome that a vector expects. Absent fields are not
// checked.
type Expect struct {
	// Status is the status the client receives. A hook error makes it 500.
	Status int `json:"status,omitempty"`
	// Body is the body the client receives: the exit body or the upstream
	// body after body_filter.
	Body *string `json:"body,omitempty"`
	// Headers are checks on the client's response headers.
	Headers HeaderExpect `json:"headers"`
	// Upstream describes the request that reached the upstream.
	Upstream *UpstreamExpect `json:"upstream,omitempty"`
	// Error, when set, expects a hook to fail with a message that contains
	// it. Without it any hook error fails the vector.
	Error string `json:"error,omitempty"`
	// Consumer, when set, is the consumer that a hook identified with
	// ctx.consumer.set, "" for none.
	Consumer *string `json:"consumer,omitempty"`
}

// HeaderExpect checks a header set. Names are case-insensitive.
type HeaderExpect struct {
	Equal   map[string]string `json:"equal,omitempty"`
	Present []string          `json:"present,omitempty"`
	Absent  []string          `json:"absent,omitempty"`
}

// UpstreamExpect describes the request that reached the simulated upstream.
type UpstreamExpect struct {
	// Called, when set, checks whether the request reached the upstream.
	Called *bool `json:"called,omitempty"`
	// Path, when set, is the upstream path.
	Path    string       `json:"path,omitempty"`
	Headers HeaderExpect `json:"headers"`
}

// ParseVectors decodes and checks a JSON array of vectors. file names the
// source in errors, such as "tests.json" or "test_vectors".
func ParseVectors(file string, data []byte) ([]Vector, error) {
	var vectors []Vector
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&vectors); err != nil {
		return nil, &ValidationError{Issues: []Issue{vectorDecodeIssue(file, data, err)}}
	}

	found := &issues{file: file}
	if len(vectors) > MaxVectors {
		found.add("", "%d vectors are above the limit of %d", len(vectors), MaxVectors)
	}
	names := map[string]bool{}
	for i := range vectors {
		vectors[i].check(found, fmt.Sprintf("[%d]", i), names)
	}
	if len(found.list) > 0 {
		found.setLines(jsonLines(data, found.fields()))
		return nil, &ValidationError{Issues: found.list}
	}
	return vectors, nil
}

func vectorDecodeIssue(file string, data []byte, err error) Issue {
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return Issue{File: file, Message: "unknown field " + field + ": check the spelling against the vector fields in docs/plugins.md"}
	}
	return jsonErrorIssue(file, data, err)
}

func (v *Vector) check(found *issues, at string, names map[string]bool) {
	if strings.TrimSpace(v.Name) == "" {
		found.add(at+".name", "name is missing: give each vector a unique name")
	} else if names[v.Name] {
		found.add(at+".name", "name %q is used twice: give each vector a unique name", v.Name)
	}
	names[v.Name] = true

	if v.BindingConfig && len(v.Config) > 0 {
		found.add(at+".config", "vector %q has both config and binding_config: remove one", v.Name)
	}
	if trimmed := bytes.TrimSpace(v.Config); len(trimmed) > 0 && trimmed[0] != '{' && !bytes.Equal(trimmed, []byte("null")) {
		found.add(at+".config", "config of vector %q must be a JSON object", v.Name)
	}
	if v.Repeat < 0 || v.Repeat > MaxRepeat {
		found.add(at+".repeat", "repeat %d is out of range: use 1 to %d", v.Repeat, MaxRepeat)
	}
	for i, need := range v.Requires {
		if need != RequirementRedis {
			found.add(fmt.Sprintf("%s.requires[%d]", at, i), "requirement %q is unknown: use %q", need, RequirementRedis)
		}
	}
	v.checkConsumers(found, at)
	if v.Request.Path != "" && !strings.HasPrefix(v.Request.Path, "/") {
		found.add(at+".request.path", "path %q must start with \"/\"", v.Request.Path)
	}
	if v.Upstream.Status != 0 && (v.Upstream.Status < 200 || v.Upstream.Status > 599) {
		found.add(at+".upstream.status", "status %d is out of range: use 200 to 599", v.Upstream.Status)
	}
	if v.Expect.Status != 0 && (v.Expect.Status < 200 || v.Expect.Status > 599) {
		found.add(at+".expect.status", "status %d is out of range: use 200 to 599", v.Expect.Status)
	}
}

// method returns the request method, GET when empty.
func (r *VectorRequest) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return strings.ToUpper(r.Method)
}

// path returns the request path, "/" when empty.
func (r *VectorRequest) path() string {
	if r.Path == "" {
		return "/"
	}
	return r.Path
}
