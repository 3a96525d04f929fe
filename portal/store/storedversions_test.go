package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"portcullis.dev/portal/store/migrations"
	"portcullis.dev/portal/store/pgtest"
	"portcullis.dev/tenants/config"
)

// openReadOnly opens dataSource with OpenReadOnly and closes it at cleanup.
func openReadOnly(t *testing.T, dataSource string) *Store {
	t.Helper()

	s, err := OpenReadOnly(context.Background(), dataSource, nil)
	if err != nil {
		t.Fatalf("OpenReadOnly(%q) error = %v", RedactURL(dataSource), err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return s
}

func createHelloBinding(t *testing.T, s *Store, slug, version string) {
	t.Helper()

	binding := config.Binding{Plugin: "hello", Version: version, Config: json.RawMessage(`{"greeting":"hi"}`)}
	if _, err := s.CreateBinding(context.Background(), slug, binding); err != nil {
		t.Fatalf("CreateBinding(%q, hello@%q) error = %v", slug, version, err)
	}
}

func TestListStoredVersions(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			ctx := context.Background()
			dataSource := dialect.open(t)
			writable := openDialect(t, dataSource)
			seedTenant(t, writable, "acme")
			seedTenant(t, writable, "globex")

			// acme: two bindings pinned to 1.0.0, and one that follows the
			// install, which resolves to 1.0.0. globex: one pinned to 1.1.0.
			createHelloBinding(t, writable, "acme", "1.0.0")
			createHelloBinding(t, writable, "acme", "1.0.0")
			if _, err := writable.CreateInstall(ctx, "acme", InstallRequest{Plugin: "hello", Version: "1.0.0"}); err != nil {
				t.Fatalf("CreateInstall(hello@1.0.0) error = %v", err)
			}
			createHelloBinding(t, writable, "acme", "")
			createHelloBinding(t, writable, "globex", "1.1.0")

			versions, err := openReadOnly(t, dataSource).ListStoredVersions(ctx)
			if err != nil {
				t.Fatalf("ListStoredVersions() error = %v", err)
			}

			want := []StoredVersion{
				{Name: "hello", Version: "1.0.0", Users: []VersionUsers{{Tenant: "acme", Pinned: 2, Following: 1}}},
				{Name: "hello", Version: "1.1.0", Users: []VersionUsers{{Tenant: "globex", Pinned: 1}}},
			}
			if len(versions) != len(want) {
				t.Fatalf("ListStoredVersions() returned %d versions, want %d: %+v", len(versions), len(want), versions)
			}
			for i := range want {
				got := versions[i]
				if got.Name != want[i].Name || got.Version != want[i].Version {
					t.Errorf("version %d = %s@%s, want %s@%s", i, got.Name, got.Version, want[i].Name, want[i].Version)
				}
				if wantSource := "// hello " + want[i].Version + "\n"; !strings.HasPrefix(got.Source, wantSource) {
					t.Errorf("source of %s@%s = %q, want it to start with %q", got.Name, got.Version, got.Source, wantSource)
				}
				if !reflect.DeepEqual(got.Users, want[i].Users) {
					t.Errorf("users of %s@%s = %+v, want %+v", got.Name, got.Version, got.Users, want[i].Users)
				}
			}
		})
	}
}

func TestListStoredVersionsEmpty(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			dataSource := dialect.open(t)
			openDialect(t, dataSource)

			versions, err := openReadOnly(t, dataSource).ListStoredVersions(context.Background())
			if err != nil {
				t.Fatalf("ListStoredVersions() error = %v", err)
			}
			if len(versions) != 0 {
				t.Errorf("ListStoredVersions() = %+v, want no versions", versions)
			}
		})
	}
}

func TestOpenReadOnlyRejectsWrites(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			dataSource := dialect.open(t)
			openDialect(t, dataSource)
			s := openReadOnly(t, dataSource)

			// SQLite rejects the write with "attempt to write a readonly
			// database", PostgreSQL with "cannot execute INSERT in a read-only
			// transaction".
			_, err := s.CreateTenant(context.Background(), config.Tenant{Slug: "acme", Name: "Acme"})
			if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), "read-only", "readonly"), "readonly") {
				t.Errorf("CreateTenant() through a read-only store error = %v, want the database to reject the write", err)
			}
			_, err = s.PublishPlugin(context.Background(), NewPluginVersion{Name: "hello", Version: "1.0.0", Source: "// hello\n"})
			if err == nil || !strings.Contains(err.Error(), errReadOnly.Error()) {
				t.Errorf("PublishPlugin() through a read-only store error = %v, want one that contains %q", err, errReadOnly)
			}

			tenants, err := openDialect(t, dataSource).ListTenants(context.Background())
			if err != nil {
				t.Fatalf("ListTenants() error = %v", err)
			}
			if len(tenants) != 0 {
				t.Errorf("tenants after the rejected writes = %+v, want none", tenants)
			}
		})
	}
}

func TestOpenReadOnlyMissingSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")

	_, err := OpenReadOnly(context.Background(), "sqlite://"+path, nil)
	if err == nil || !strings.Contains(err.Error(), "the file does not exist") {
		t.Errorf("OpenReadOnly() of a missing file error = %v, want it to say that the file does not exist", err)
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("OpenReadOnly() left a file at %s (stat error %v), want none created", path, statErr)
	}
}

// TestOpenReadOnlyWithoutSchema opens empty databases, which a portal
// never opened. OpenReadOnly must reject them without creating the schema.
func TestOpenReadOnlyWithoutSchema(t *testing.T) {
	emptyFile := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{
		"sqlite":   "sqlite://" + emptyFile,
		"postgres": pgtest.NewDatabase(t),
	}

	for name, dataSource := range sources {
		t.Run(name, func(t *testing.T) {
			// The second open finds no schema either, so the first created
			// none.
			for attempt := 1; attempt <= 2; attempt++ {
				_, err := OpenReadOnly(context.Background(), dataSource, nil)
				if err == nil || !strings.Contains(err.Error(), "has no portal schema") {
					t.Errorf("OpenReadOnly() attempt %d error = %v, want one that says the database has no portal schema", attempt, err)
				}
			}
		})
	}
}

func TestSchemaVersion(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			dataSource := dialect.open(t)
			openDialect(t, dataSource)

			applied, latest, err := openReadOnly(t, dataSource).SchemaVersion(context.Background())
			if err != nil {
				t.Fatalf("SchemaVersion() error = %v", err)
			}
			versions := migrationVersions(t, dialect.name)
			newest := versions[len(versions)-1]
			if applied != newest || latest != newest {
				t.Errorf("SchemaVersion() = %d, %d, want %d for both", applied, latest, newest)
			}
		})
	}
}

// TestSchemaVersionOfOlderRelease migrates a database as far as a release
// before migration StoredVersionsSchema did. ListStoredVersions cannot
// read it, and SchemaVersion returns the version that explains why. After
// migration StoredVersionsSchema it can.
func TestSchemaVersionOfOlderRelease(t *testing.T) {
	ctx := context.Background()
	dataSource := pgtest.NewDatabase(t)
	db, err := sql.Open("pgx", dataSource)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	if err := migrations.UpTo(ctx, db, migrations.Postgres, StoredVersionsSchema-1); err != nil {
		t.Fatalf("UpTo(%d) error = %v", StoredVersionsSchema-1, err)
	}

	s := openReadOnly(t, dataSource)
	applied, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatalf("SchemaVersion() error = %v", err)
	}
	versions := migrationVersions(t, "postgres")
	if applied != StoredVersionsSchema-1 || latest != versions[len(versions)-1] {
		t.Errorf("SchemaVersion() = %d, %d, want %d, %d", applied, latest, StoredVersionsSchema-1, versions[len(versions)-1])
	}
	if _, err := s.ListStoredVersions(ctx); err == nil || !strings.Contains(err.Error(), "follows_install") {
		t.Errorf("ListStoredVersions() error = %v, want one about the column follows_install that the schema lacks", err)
	}

	if err := migrations.UpTo(ctx, db, migrations.Postgres, StoredVersionsSchema); err != nil {
		t.Fatalf("UpTo(%d) error = %v", StoredVersionsSchema, err)
	}
	if _, err := openReadOnly(t, dataSource).ListStoredVersions(ctx); err != nil {
		t.Errorf("ListStoredVersions() at schema version %d error = %v, want none", StoredVersionsSchema, err)
	}
}
