package pluginpkg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing/fstest"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// File names of a package.
const (
	ManifestJSON = "manifest.json"
	ManifestYAML = "manifest.yaml"
	ReadmeFile   = "README.md"
	TestsFile    = "tests.json"
)

// Limits of a package's files.
const (
	// MaxFileSize bounds each file that Load reads.
	MaxFileSize = 1 << 20
	// maxArchiveFiles bounds the entries of an archive.
	maxArchiveFiles = 64
)

// Package is a loaded plugin package.
type Package struct {
	Manifest Manifest
	// ManifestFile is manifest.json or manifest.yaml.
	ManifestFile string
	// Source is the Risor source.
	Source string
	// ConfigSchema is the resolved JSON Schema, {"type":"object"} when the
	// manifest has none.
	ConfigSchema json.RawMessage
	Readme       string
	Vectors      []Vector
	// TestsJSON is the tests.json text, as the portal receives it.
	TestsJSON json.RawMessage

	manifestLines map[string]int
}

// Load reads the package at path: a folder, or a .zip, .tar.gz or .tgz
// archive whose files sit at the top or in one top folder.
func Load(name string) (*Package, error) {
	info, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("open plugin package %q: %w", name, err)
	}
	if info.IsDir() {
		return LoadFS(os.DirFS(name))
	}

	fsys, err := openArchive(name)
	if err != nil {
		return nil, err
	}
	return LoadFS(fsys)
}

// LoadFS reads a package from the root of fsys, or from its one top folder
// when the root has no manifest.
func LoadFS(fsys fs.FS) (*Package, error) {
	fsys, err := packageRoot(fsys)
	if err != nil {
		return nil, err
	}

	manifest, manifestFile, lines, err := loadManifest(fsys)
	if err != nil {
		return nil, err
	}
	pkg := &Package{Manifest: *manifest, ManifestFile: manifestFile, manifestLines: lines, ConfigSchema: json.RawMessage(`{"type":"object"}`)}

	var problems []Issue
	collect := func(err error) {
		var invalid *ValidationError
		if errors.As(err, &invalid) {
			problems = append(problems, invalid.Issues...)
		} else if err != nil {
			problems = append(problems, Issue{Message: err.Error()})
		}
	}
	collect(pkg.loadSource(fsys))
	collect(pkg.loadSchema(fsys))
	collect(pkg.loadReadme(fsys))
	collect(pkg.loadVectors(fsys))
	collect(pkg.checkSizes())
	if len(problems) > 0 {
		return nil, &ValidationError{Issues: problems}
	}
	return pkg, nil
}

func packageRoot(fsys fs.FS) (fs.FS, error) {
	if hasManifest(fsys) {
		return fsys, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read plugin package: %w", err)
	}
	if len(entries) == 1 && entries[0].IsDir() {
		sub, err := fs.Sub(fsys, entries[0].Name())
		if err == nil && hasManifest(sub) {
			return sub, nil
		}
	}
	return nil, fmt.Errorf("plugin package has no %s or %s: add one at the top of the package", ManifestJSON, ManifestYAML)
}

func hasManifest(fsys fs.FS) bool {
	for _, name := range []string{ManifestJSON, ManifestYAML} {
		if _, err := fs.Stat(fsys, name); err == nil {
			return true
		}
	}
	return false
}

// loadManifest returns the manifest and the name of its file.
func loadManifest(fsys fs.FS) (*Manifest, string, map[string]int, error) {
	jsonData, jsonErr := readFile(fsys, ManifestJSON)
	yamlData, yamlErr := readFile(fsys, ManifestYAML)
	switch {
	case jsonErr == nil && yamlErr == nil:
		return nil, "", nil, fmt.Errorf("plugin package has both %s and %s: keep one", ManifestJSON, ManifestYAML)
	case jsonErr == nil:
		manifest, lines, err := parseManifest(ManifestJSON, jsonData)
		return manifest, ManifestJSON, lines, err
	case yamlErr == nil:
		manifest, lines, err := parseManifest(ManifestYAML, yamlData)
		return manifest, ManifestYAML, lines, err
	}
	return nil, "", nil, errors.Join(jsonErr, yamlErr)
}

func (p *Package) loadSource(fsys fs.FS) error {
	file := p.Manifest.SourceFile()
	data, err := readFile(fsys, file)
	if err != nil {
		return &ValidationError{Issues: []Issue{{File: file, Message: err.Error() + ": add the Risor source or set \"source\" in the manifest"}}}
	}
	p.Source = string(data)
	return nil
}

func (p *Package) loadSchema(fsys fs.FS) error {
	trimmed := bytes.TrimSpace(p.Manifest.ConfigSchema)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil
	}
	file := p.Manifest.SchemaFile()
	if file == "" {
		p.ConfigSchema = json.RawMessage(trimmed)
		return nil
	}

	data, err := readFile(fsys, file)
	if err != nil {
		return &ValidationError{Issues: []Issue{{File: file, Message: err.Error()}}}
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		return &ValidationError{Issues: []Issue{jsonErrorIssue(file, data, err)}}
	}
	p.ConfigSchema = json.RawMessage(bytes.TrimSpace(data))
	return nil
}

func (p *Package) loadReadme(fsys fs.FS) error {
	data, err := readFile(fsys, ReadmeFile)
	if err != nil {
		return &ValidationError{Issues: []Issue{{File: ReadmeFile, Message: err.Error() + ": describe the plugin and its config"}}}
	}
	p.Readme = string(data)
	return nil
}

func (p *Package) loadVectors(fsys fs.FS) error {
	data, err := readFile(fsys, TestsFile)
	if err != nil {
		return &ValidationError{Issues: []Issue{{File: TestsFile, Message: err.Error() + ": add test vectors"}}}
	}
	vectors, err := ParseVectors(TestsFile, data)
	if err != nil {
		return err
	}
	p.Vectors = vectors
	p.TestsJSON = json.RawMessage(data)
	return nil
}

func readFile(fsys fs.FS, name string) ([]byte, error) {
	file, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer file.Close()

	data, err := io.ReadAll(io.LimitReader(file, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is above the limit of %d bytes", name, MaxFileSize)
	}
	return data, nil
}

// Compile compiles the package's source and checks that the manifest's
// phases are the phase functions that the source defines.
func (p *Package) Compile() (*pluginhost.Plugin, error) {
	file := p.Manifest.SourceFile()
	plugin, err := pluginhost.Compile(p.Manifest.Name, p.Manifest.Version, p.Source)
	var compileErr *pluginhost.CompileError
	if errors.As(err, &compileErr) {
		issue := Issue{File: file, Line: compileErr.Line, Column: compileErr.Column, Message: compileErr.Message}
		return nil, &ValidationError{Issues: []Issue{issue}}
	}
	if err != nil {
		return nil, &ValidationError{Issues: []Issue{{File: file, Message: err.Error()}}}
	}

	var problems []Issue
	for _, phase := range pluginhost.Phases {
		listed := false
		for _, name := range p.Manifest.Phases {
			listed = listed || name == string(phase)
		}
		if listed != plugin.Has(phase) {
			problems = append(problems, Issue{File: p.ManifestFile, Field: "phases", Line: p.phasesLine(), Message: phaseMismatch(phase, listed, file)})
		}
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Issues: problems}
	}
	return plugin, nil
}

func phaseMismatch(phase pluginhost.Phase, listed bool, file string) string {
	if listed {
		return fmt.Sprintf("phase %q is listed, but %s defines no %s function", phase, file, phase)
	}
	return fmt.Sprintf("%s defines the %s function, but phases does not list %q", file, phase, phase)
}

// phasesLine returns the line of "phases" in the manifest file.
func (p *Package) phasesLine() int {
	return p.manifestLines["phases"]
}

// Test compiles the package and runs its vectors.
func (p *Package) Test(ctx context.Context, opts RunOptions) ([]Result, error) {
	plugin, err := p.Compile()
	if err != nil {
		return nil, err
	}
	return Run(ctx, plugin, p.Vectors, opts), nil
}

// openArchive reads a .zip, .tar.gz or .tgz archive into memory.
func openArchive(name string) (fs.FS, error) {
	switch {
	case strings.HasSuffix(name, ".zip"):
		reader, err := zip.OpenReader(name)
		if err != nil {
			return nil, fmt.Errorf("open plugin archive %q: %w", name, err)
		}
		if len(reader.File) > maxArchiveFiles {
			return nil, fmt.Errorf("plugin archive %q has %d entries, above the limit of %d", name, len(reader.File), maxArchiveFiles)
		}
		return reader, nil
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return readTarGz(name)
	}
	return nil, fmt.Errorf("plugin package %q is neither a folder nor a .zip, .tar.gz or .tgz archive", name)
}

func readTarGz(name string) (fs.FS, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open plugin archive %q: %w", name, err)
	}
	defer file.Close()

	gz, err := gzip.NewReader(file)
	if err != nil {
		return nil, fmt.Errorf("read plugin archive %q: %w", name, err)
	}
	files := fstest.MapFS{}
	archive := tar.NewReader(gz)
	for count := 0; ; count++ {
		header, err := archive.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read plugin archive %q: %w", name, err)
		}
		if count >= maxArchiveFiles {
			return nil, fmt.Errorf("plugin archive %q has more than %d entries", name, maxArchiveFiles)
		}
		if header.Typeflag != tar.TypeReg {
			continue
		}

		data, err := io.ReadAll(io.LimitReader(archive, MaxFileSize+1))
		if err != nil {
			return nil, fmt.Errorf("read %s in plugin archive %q: %w", header.Name, name, err)
		}
		files[path.Clean(strings.TrimPrefix(header.Name, "./"))] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
}
