// Package pluginpkg loads plugin packages and runs their test vectors.
//
// A package is a folder, or a .zip or .tar.gz archive of one, holding:
//
//   - manifest.json or manifest.yaml: name, version, phases, priority,
//     config schema, permissions and description;
//   - the Risor source, plugin.risor unless the manifest names another file;
//   - README.md;
//   - tests.json: the test vectors, a JSON array.
//
// Run executes vectors against a compiled plugin through pluginhost, with
// the upstream simulated and no network.
package pluginpkg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/tenants/config"
)

// DefaultSourceFile is the Risor source file of a manifest without "source".
const DefaultSourceFile = "plugin.risor"

// MaxPriority bounds Manifest.Priority in both directions, as the portal
// bounds a version's priority.
const MaxPriority = 100000

// Manifest describes a plugin package.
type Manifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Description is one line on what the plugin does.
	Description string `json:"description"`
	// Phases lists the phase functions that the source defines.
	Phases []string `json:"phases"`
	// Priority is the version's default priority: higher runs first.
	Priority int `json:"priority"`
	// Source is the file name of the Risor source. Empty means
	// DefaultSourceFile.
	Source string `json:"source,omitempty"`
	// ConfigSchema is the JSON Schema of binding configs: an object, or a
	// string naming a JSON file of the package. Absent means
	// {"type":"object"}.
	ConfigSchema json.RawMessage `json:"config_schema,omitempty"`
	// Permissions are the rights a binding of the plugin needs besides the
	// sandbox.
	Permissions Permissions `json:"permissions"`
}

// Permissions lists the rights a plugin requests beyond the sandbox.
type Permissions struct {
	// AllowHosts lists the hosts, as "host" or "host:port", that the
	// plugin reaches with ctx.http. Each binding must allow them.
	AllowHosts []string `json:"allow_hosts,omitempty"`
}

var (
	// namespacePattern and namePattern are the portal's rules for the two
	// parts of a plugin name.
	namespacePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	namePattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// semverPattern is the SemVer 2.0.0 grammar of semver.org.
	semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
		`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

// manifestLineFields are the manifest fields whose lines Load reports after
// parsing: phases, which Compile compares with the source, and the parts
// that checkSizes measures.
var manifestLineFields = []string{"phases", "config_schema", "description"}

// parseManifest decodes and checks a manifest, and returns the line of each
// field of manifestLineFields that the manifest has. YAML is converted to
// JSON first, so both forms have the same fields.
func parseManifest(file string, data []byte) (*Manifest, map[string]int, error) {
	source := data
	findLines := func(paths []string) map[string]int { return jsonLines(source, paths) }
	if strings.HasSuffix(file, ".yaml") || strings.HasSuffix(file, ".yml") {
		converted, root, err := yamlToJSON(file, data)
		if err != nil {
			return nil, nil, err
		}
		data = converted
		findLines = func(paths []string) map[string]int { return yamlLines(root, paths) }
	}

	var manifest Manifest
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&manifest); err != nil {
		return nil, nil, &ValidationError{Issues: []Issue{decodeIssue(file, data, findLines, err)}}
	}

	found := &issues{file: file}
	manifest.check(found)
	lines := findLines(append(found.fields(), manifestLineFields...))
	if len(found.list) > 0 {
		found.setLines(lines)
		return nil, nil, &ValidationError{Issues: found.list}
	}
	return &manifest, lines, nil
}

// decodeIssue reports a decode error, naming an unknown field and its line.
// findLines returns the lines of paths in the manifest file.
func decodeIssue(file string, data []byte, findLines func(paths []string) map[string]int, err error) Issue {
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ := strconv.Unquote(field)
		return Issue{File: file, Field: name, Line: findLines([]string{name})[name], Message: "unknown field: check the spelling against the manifest fields in docs/plugins.md"}
	}
	issue := jsonErrorIssue(file, data, err)
	if issue.Field != "" {
		if line := findLines([]string{issue.Field})[issue.Field]; line > 0 {
			issue.Line = line
		}
	}
	return issue
}

func (m *Manifest) check(found *issues) {
	if !validName(m.Name) {
		found.add("name", "name %q is invalid: use \"name\" or \"namespace/name\", where the namespace has 1 to 63 lowercase letters, digits and inner hyphens, and the name 1 to 63 letters, digits, dots, underscores and hyphens, starting with a letter or digit", m.Name)
	} else if reservedName(m.Name) {
		found.add("name", "name %q is reserved: choose another name", m.Name)
	}
	if !semverPattern.MatchString(m.Version) {
		found.add("version", "version %q is not a semantic version: use MAJOR.MINOR.PATCH such as 1.0.0", m.Version)
	} else if len(m.Version) > MaxVersionLength {
		found.add("version", "version %q is %d characters, above the limit of %d", m.Version, len(m.Version), MaxVersionLength)
	}
	if m.Priority < -MaxPriority || m.Priority > MaxPriority {
		found.add("priority", "priority %d is out of range: use %d to %d", m.Priority, -MaxPriority, MaxPriority)
	}
	m.checkPhases(found)
	m.checkSource(found)
	m.checkSchema(found)

	for i, host := range m.Permissions.AllowHosts {
		if !config.ValidAllowHost(host) {
			found.add(fmt.Sprintf("permissions.allow_hosts[%d]", i), "host %q is invalid: use host or host:port, such as \"api.example.com:8443\" or \"[2001:db8::7]:8443\", without a scheme or path", host)
		}
	}
}

func (m *Manifest) checkPhases(found *issues) {
	if len(m.Phases) == 0 {
		found.add("phases", "phases is missing: list the phase functions the source defines, such as [\"access\"]")
	}
	for i, phase := range m.Phases {
		field := fmt.Sprintf("phases[%d]", i)
		if !slices.Contains(pluginhost.Phases, pluginhost.Phase(phase)) {
			found.add(field, "phase %q is unknown: use one of %q", phase, pluginhost.Phases)
		}
		if slices.Index(m.Phases, phase) != i {
			found.add(field, "phase %q is listed twice", phase)
		}
	}
}

func (m *Manifest) checkSource(found *issues) {
	if m.Source == "" {
		return
	}
	if m.Source != path.Clean(m.Source) || path.IsAbs(m.Source) || strings.HasPrefix(m.Source, "..") {
		found.add("source", "source %q is invalid: name a file inside the package, such as %q", m.Source, DefaultSourceFile)
	}
}

func (m *Manifest) checkSchema(found *issues) {
	trimmed := bytes.TrimSpace(m.ConfigSchema)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return
	}
	switch trimmed[0] {
	case '{':
	case '"':
		var name string
		_ = json.Unmarshal(trimmed, &name)
		if name == "" || name != path.Clean(name) || strings.HasPrefix(name, "..") {
			found.add("config_schema", "config_schema %q is invalid: name a JSON file inside the package", name)
		}
	default:
		found.add("config_schema", "config_schema must be a JSON Schema object or the name of a JSON file, got %s", trimmed)
	}
}

// SourceFile returns the package's Risor source file name.
func (m *Manifest) SourceFile() string {
	if m.Source == "" {
		return DefaultSourceFile
	}
	return m.Source
}

// SchemaFile returns the file that config_schema names, or "".
func (m *Manifest) SchemaFile() string {
	var name string
	if json.Unmarshal(m.ConfigSchema, &name) != nil {
		return ""
	}
	return name
}
