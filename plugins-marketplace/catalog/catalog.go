// Package catalog embeds Portcullis's first-party plugins, one package
// folder each (see pluginpkg), so the binary carries them.
package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"portcullis.dev/plugins-marketplace/pluginpkg"
)

//go:embed */manifest.json */plugin.risor */schema.json */README.md */tests.json
var files embed.FS

// FS returns the catalogue's files, one top folder per plugin.
func FS() fs.FS {
	return files
}

// Names returns the names of the catalogue's plugins, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	names := make([]string, 0, len(entries))
	for _, entry := range entries {
		if entry.IsDir() {
			names = append(names, entry.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Load loads one catalogue plugin by name.
func Load(name string) (*pluginpkg.Package, error) {
	sub, err := fs.Sub(files, name)
	if err != nil {
		return nil, fmt.Errorf("load catalogue plugin %q: %w", name, err)
	}
	pkg, err := pluginpkg.LoadFS(sub)
	if err != nil {
		return nil, fmt.Errorf("load catalogue plugin %q: %w", name, err)
	}
	return pkg, nil
}

// All loads every catalogue plugin, in name order.
func All() ([]*pluginpkg.Package, error) {
	names := Names()
	packages := make([]*pluginpkg.Package, 0, len(names))
	for _, name := range names {
		pkg, err := Load(name)
		if err != nil {
			return nil, err
		}
		packages = append(packages, pkg)
	}
	return packages, nil
}
