// Package lkg keeps the last-known-good bundle of each tenant on local disk,
// so a restarted edge can serve while the portal is unreachable.
package lkg

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"portcullis.dev/tenants/bundle"
)

// Dir stores one file per tenant, bundles/<slug>.json, and the change feed
// position in feed-position. Writes go to a temporary file that is synced
// and renamed over the old one, so a crash leaves the old or the new file,
// never a torn one. Loads verify the bundle's content hash.
type Dir struct {
	root string
}

// Open creates the folders under root when missing and returns a Dir.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, "bundles"), 0o700); err != nil {
		return nil, fmt.Errorf("create last-known-good folder under %q: %w", root, err)
	}
	return &Dir{root: root}, nil
}

// Save writes the bundle as the tenant's last-known-good bundle.
func (d *Dir) Save(b *bundle.Bundle) error {
	path, err := d.bundlePath(b.Tenant)
	if err != nil {
		return err
	}

	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode bundle of tenant %q revision %d: %w", b.Tenant, b.Revision, err)
	}
	return writeAtomic(path, data)
}

// Load returns the tenant's last-known-good bundle. It returns an error
// wrapping os.ErrNotExist when there is none, and an error when the file's
// content does not match its hash.
func (d *Dir) Load(tenant string) (*bundle.Bundle, error) {
	path, err := d.bundlePath(tenant)
	if err != nil {
		return nil, err
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read last-known-good bundle of tenant %q: %w", tenant, err)
	}

	var b bundle.Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("decode last-known-good bundle %q: %w", path, err)
	}
	if b.Tenant != tenant {
		return nil, fmt.Errorf("last-known-good bundle %q belongs to tenant %q", path, b.Tenant)
	}
	if err := b.Verify(); err != nil {
		return nil, fmt.Errorf("last-known-good bundle %q is corrupt: %w", path, err)
	}
	return &b, nil
}

// Remove deletes the tenant's bundle, for a tenant that no longer exists.
func (d *Dir) Remove(tenant string) error {
	path, err := d.bundlePath(tenant)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove last-known-good bundle of tenant %q: %w", tenant, err)
	}
	return nil
}

// SavePosition records the last change feed position the edge applied.
func (d *Dir) SavePosition(position int64) error {
	return writeAtomic(filepath.Join(d.root, "feed-position"), []byte(strconv.FormatInt(position, 10)+"\n"))
}

// LoadPosition returns the recorded feed position, and false when none is
// recorded.
func (d *Dir) LoadPosition() (int64, bool, error) {
	data, err := os.ReadFile(filepath.Join(d.root, "feed-position"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read feed position: %w", err)
	}

	position, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || position < 0 {
		return 0, false, fmt.Errorf("feed position file holds %q, not a position: delete it to start from the feed head", strings.TrimSpace(string(data)))
	}
	return position, true, nil
}

// bundlePath rejects slugs that could leave the folder. Real slugs are
// lowercase letters, digits and '-'.
func (d *Dir) bundlePath(tenant string) (string, error) {
	if tenant == "" || strings.ContainsAny(tenant, `/\.`) {
		return "", fmt.Errorf("tenant %q is not a valid slug for a file name", tenant)
	}
	return filepath.Join(d.root, "bundles", tenant+".json"), nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %q: %w", path, err)
	}
	return nil
}
