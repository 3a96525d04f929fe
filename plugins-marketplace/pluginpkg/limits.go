package pluginpkg

import (
	"fmt"
	"strings"
)

// Size limits of a package's parts. The portal applies the same limits at
// publish time, and Load checks them so that a publisher gets a failure
// before the upload.
const (
	// MaxSourceSize bounds the Risor source in bytes.
	MaxSourceSize = 256 << 10
	// MaxReadmeSize bounds README.md in bytes.
	MaxReadmeSize = 64 << 10
	// MaxTestsSize bounds tests.json in bytes.
	MaxTestsSize = 256 << 10
	// MaxSchemaSize bounds the config schema in bytes.
	MaxSchemaSize = 64 << 10
	// MaxDescriptionSize bounds the manifest's description in bytes.
	MaxDescriptionSize = 1024
	// MaxVersionLength bounds the manifest's version in characters.
	MaxVersionLength = 128
)

// checkSizes reports each part of the package that exceeds its limit, with
// the file that holds it.
func (p *Package) checkSizes() error {
	var problems []Issue
	over := func(file, field string, size, limit int) {
		if size > limit {
			line := 0
			if field != "" {
				line = p.manifestLines[field]
			}
			problems = append(problems, Issue{File: file, Field: field, Line: line, Message: fmt.Sprintf("size check failed: %d bytes, above the limit of %d", size, limit)})
		}
	}

	over(p.Manifest.SourceFile(), "", len(p.Source), MaxSourceSize)
	over(ReadmeFile, "", len(p.Readme), MaxReadmeSize)
	over(TestsFile, "", len(p.TestsJSON), MaxTestsSize)
	if file := p.Manifest.SchemaFile(); file != "" {
		over(file, "", len(p.ConfigSchema), MaxSchemaSize)
	} else {
		over(p.ManifestFile, "config_schema", len(p.ConfigSchema), MaxSchemaSize)
	}
	over(p.ManifestFile, "description", len(p.Manifest.Description), MaxDescriptionSize)

	if len(problems) > 0 {
		return &ValidationError{Issues: problems}
	}
	return nil
}

// validName reports whether name is "name" or "namespace/name" with both
// parts lowercase letters, digits and inner hyphens.
func validName(name string) bool {
	namespace, base, qualified := strings.Cut(name, "/")
	if !qualified {
		return namePattern.MatchString(name)
	}
	return namespacePattern.MatchString(namespace) && namePattern.MatchString(base)
}

// reservedName reports whether the name part of a plugin name is one that
// the portal's plugin paths use, such as /api/v1/plugins/{name}/versions.
func reservedName(name string) bool {
	_, base, qualified := strings.Cut(name, "/")
	if !qualified {
		base = name
	}
	return base == "versions" || base == "stats"
}
