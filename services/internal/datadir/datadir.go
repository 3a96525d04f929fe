// Package datadir manages the data folder of a Portcullis process: the SQLite
// file, the operator token and the development TLS certificate.
package datadir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir is a data folder on local disk.
type Dir struct {
	Path string
}

// Open creates the folder (mode 0700) when it does not exist.
func Open(path string) (*Dir, error) {
	if path == "" {
		return nil, fmt.Errorf("data folder path is empty: set --data-dir or PORTCULLIS_DATA_DIR")
	}
	absolute, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve data folder %q: %w", path, err)
	}
	if err := os.MkdirAll(absolute, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %q: %w", absolute, err)
	}
	return &Dir{Path: absolute}, nil
}

// File returns the path of a file inside the folder.
func (d *Dir) File(name string) string {
	return filepath.Join(d.Path, name)
}

// DatabaseFile returns the path of the portal's SQLite database.
func (d *Dir) DatabaseFile() string {
	return d.File("portcullis.db")
}

// writePrivate writes data to a new file readable only by its owner. It
// writes to a temporary file first so a crash never leaves half a file.
func writePrivate(path string, data []byte) error {
	temp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %q: %w", path, err)
	}
	defer os.Remove(temp.Name())

	if err := temp.Chmod(0o600); err != nil {
		temp.Close()
		return fmt.Errorf("restrict %q: %w", temp.Name(), err)
	}
	if _, err := temp.Write(data); err != nil {
		temp.Close()
		return fmt.Errorf("write %q: %w", temp.Name(), err)
	}
	if err := temp.Sync(); err != nil {
		temp.Close()
		return fmt.Errorf("sync %q: %w", temp.Name(), err)
	}
	if err := temp.Close(); err != nil {
		return fmt.Errorf("close %q: %w", temp.Name(), err)
	}

	if err := os.Rename(temp.Name(), path); err != nil {
		return fmt.Errorf("move %q into place: %w", path, err)
	}
	return nil
}
