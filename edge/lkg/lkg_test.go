package lkg

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func sealed(t *testing.T, tenant string, revision int64) *bundle.Bundle {
	t.Helper()
	b := &bundle.Bundle{
		Tenant:    tenant,
		Revision:  revision,
		Upstreams: []config.Upstream{{Name: "backend", Targets: []config.Target{{URL: "http://127.0.0.1:9", Weight: 1}}}},
		Routes:    []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "backend"}},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return b
}

func openDir(t *testing.T) (*Dir, string) {
	t.Helper()
	root := t.TempDir()
	dir, err := Open(root)
	if err != nil {
		t.Fatalf("Open(%q) error = %v", root, err)
	}
	return dir, root
}

func TestSaveThenLoad(t *testing.T) {
	dir, _ := openDir(t)

	for _, revision := range []int64{3, 4} {
		if err := dir.Save(sealed(t, "acme", revision)); err != nil {
			t.Fatalf("Save(revision %d) error = %v", revision, err)
		}
	}

	got, err := dir.Load("acme")
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if got.Revision != 4 {
		t.Errorf("Load() revision = %d, want 4, the last saved", got.Revision)
	}
	if got.Hash != sealed(t, "acme", 4).Hash {
		t.Errorf("Load() hash = %q, want the saved bundle's", got.Hash)
	}
}

func TestSaveLeavesNoTemporaryFiles(t *testing.T) {
	dir, root := openDir(t)

	for revision := int64(1); revision <= 5; revision++ {
		if err := dir.Save(sealed(t, "acme", revision)); err != nil {
			t.Fatalf("Save() error = %v", err)
		}
	}

	entries, err := os.ReadDir(filepath.Join(root, "bundles"))
	if err != nil {
		t.Fatalf("read bundles folder: %v", err)
	}
	var names []string
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	if len(names) != 1 || names[0] != "acme.json" {
		t.Errorf("bundles folder = %v, want only acme.json", names)
	}
}

// TestSaveIsAtomic loads while another goroutine saves: each load must
// see a whole bundle, old or new, and never a torn or empty file.
func TestSaveIsAtomic(t *testing.T) {
	dir, _ := openDir(t)
	if err := dir.Save(sealed(t, "acme", 1)); err != nil {
		t.Fatalf("Save() error = %v", err)
	}

	const saves = 200
	bundles := make([]*bundle.Bundle, saves+1)
	for revision := 1; revision <= saves; revision++ {
		bundles[revision] = sealed(t, "acme", int64(revision))
	}

	done := make(chan error, 1)
	go func() {
		for revision := 2; revision <= saves; revision++ {
			if err := dir.Save(bundles[revision]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()

	loads, last := 0, int64(1)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Save() error = %v", err)
			}
			t.Logf("%d loads during %d saves", loads, saves-1)
			return
		default:
		}

		got, err := dir.Load("acme")
		if err != nil {
			t.Fatalf("Load() during saves error = %v, want a whole bundle", err)
		}
		if got.Revision < last {
			t.Fatalf("Load() revision = %d after %d, want revisions that never go back", got.Revision, last)
		}
		last = got.Revision
		loads++
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		content func(t *testing.T) []byte
		want    string
	}{
		{"changed content", func(t *testing.T) []byte {
			data := mustJSON(t, sealed(t, "acme", 1))
			return []byte(strings.Replace(string(data), "127.0.0.1:9", "127.0.0.1:8", 1))
		}, "corrupt"},
		{"wrong hash", func(t *testing.T) []byte {
			b := sealed(t, "acme", 1)
			b.Hash = strings.Repeat("0", 64)
			return mustJSON(t, b)
		}, "corrupt"},
		{"other tenant", func(t *testing.T) []byte {
			return mustJSON(t, sealed(t, "other", 1))
		}, "belongs to tenant"},
		{"torn file", func(t *testing.T) []byte {
			data := mustJSON(t, sealed(t, "acme", 1))
			return data[:len(data)/2]
		}, "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, root := openDir(t)
			path := filepath.Join(root, "bundles", "acme.json")
			if err := os.WriteFile(path, tt.content(t), 0o600); err != nil {
				t.Fatalf("write %q: %v", path, err)
			}

			b, err := dir.Load("acme")
			if err == nil {
				t.Fatalf("Load() = revision %d, want an error", b.Revision)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissingIsNotExist(t *testing.T) {
	dir, _ := openDir(t)

	_, err := dir.Load("acme")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load() error = %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestRemove(t *testing.T) {
	dir, _ := openDir(t)
	if err := dir.Save(sealed(t, "acme", 1)); err != nil {
		t.Fatalf("Save() error = %v", err)
	}

	if err := dir.Remove("acme"); err != nil {
		t.Fatalf("Remove() error = %v", err)
	}
	if err := dir.Remove("acme"); err != nil {
		t.Errorf("second Remove() error = %v, want nil", err)
	}
	if _, err := dir.Load("acme"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load() after Remove() error = %v, want os.ErrNotExist", err)
	}
}

func TestSlugsThatLeaveTheFolder(t *testing.T) {
	dir, _ := openDir(t)

	for _, slug := range []string{"", "../acme", "a/b", `a\b`, "acme.json"} {
		if _, err := dir.Load(slug); err == nil || errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load(%q) error = %v, want a slug error", slug, err)
		}
	}
}

func TestPosition(t *testing.T) {
	dir, root := openDir(t)

	if _, found, err := dir.LoadPosition(); err != nil || found {
		t.Fatalf("LoadPosition() on an empty folder = found %v, error %v; want not found, nil", found, err)
	}
	if err := dir.SavePosition(42); err != nil {
		t.Fatalf("SavePosition() error = %v", err)
	}
	position, found, err := dir.LoadPosition()
	if err != nil || !found || position != 42 {
		t.Errorf("LoadPosition() = %d, %v, %v; want 42, true, nil", position, found, err)
	}

	path := filepath.Join(root, "feed-position")
	for _, content := range []string{"abc\n", "-3\n", ""} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatalf("write %q: %v", path, err)
		}
		if _, _, err := dir.LoadPosition(); err == nil {
			t.Errorf("LoadPosition() of %q error = nil, want an error", content)
		}
	}
}

func mustJSON(t *testing.T, b *bundle.Bundle) []byte {
	t.Helper()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatalf("encode bundle: %v", err)
	}
	return data
}
