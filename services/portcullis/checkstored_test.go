package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/portal/store"
	"portcullis.dev/portal/store/pgtest"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// goodSource compiles under the current rules.
const goodSource = "greeting := \"hi\"\nfunc access(ctx, conf) {\n  ctx.resp.set_header(\"X-Greeting\", greeting)\n}\n"

// topLevelCallSource assigns a call at top level, which the current rules
// reject on line 1, column 1.
const topLevelCallSource = "greeting := sprintf(\"%s\", \"hi\")\nfunc access(ctx, conf) {}\n"

// goStatementSource starts a goroutine, which the current rules reject on
// line 2, column 3.
const goStatementSource = "func access(ctx, conf) {\n  go func() {}()\n}\n"

// bindingSecret is a binding config value that the command must not print.
const bindingSecret = "config-value-that-stays-secret"

// compileCurrent is a publish compiler with the current rules.
func compileCurrent(name, version, source string) error {
	_, err := pluginhost.Compile(name, version, source)
	return err
}

// openPortalDatabase opens a store with the portal's schema on dataSource,
// with tenants acme and globex, and publishes greet 1.0.0 with goodSource
// under the current rules.
func openPortalDatabase(t *testing.T, dataSource string) *store.Store {
	t.Helper()
	ctx := context.Background()

	st, err := store.Open(ctx, dataSource, store.Options{Compiler: compileCurrent})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })

	for _, slug := range []string{"acme", "globex"} {
		if _, err := st.CreateTenant(ctx, config.Tenant{Slug: slug, Name: slug}); err != nil {
			t.Fatalf("create tenant %s: %v", slug, err)
		}
	}
	if _, err := st.PublishPlugin(ctx, store.NewPluginVersion{Name: "greet", Version: "1.0.0", Source: goodSource}); err != nil {
		t.Fatalf("publish greet 1.0.0: %v", err)
	}
	return st
}

// insertGreetVersion stores a version of greet with SQL, as a portal of an
// older release with laxer compile rules would have published it. It
// copies the other columns from greet 1.0.0.
func insertGreetVersion(t *testing.T, dataSource, version, source string) {
	t.Helper()

	db, err := sql.Open("pgx", dataSource)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()

	_, err = db.Exec(`INSERT INTO plugin_versions (name, version, source, sha256, config_schema, created_at)
		SELECT name, $1, $2, $3, config_schema, created_at FROM plugin_versions WHERE name = 'greet' AND version = '1.0.0'`,
		version, source, bundle.SourceHash(source))
	if err != nil {
		t.Fatalf("insert greet %s: %v", version, err)
	}
}

func createGreetBinding(t *testing.T, st *store.Store, tenant, version string) {
	t.Helper()

	binding := config.Binding{Plugin: "greet", Version: version, Config: json.RawMessage(`{"token":"` + bindingSecret + `"}`)}
	if _, err := st.CreateBinding(context.Background(), tenant, binding); err != nil {
		t.Fatalf("create binding of greet %q in %s: %v", version, tenant, err)
	}
}

// runCheckStoredCommand runs "portcullis plugin check-stored" with args.
func runCheckStoredCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()

	var out, errOut bytes.Buffer
	code = runPlugin(append([]string{"check-stored"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// checkOutputLines compares the lines of output with want, where each
// entry of want is the start of its line.
func checkOutputLines(t *testing.T, output string, want []string) {
	t.Helper()

	lines := strings.Split(strings.TrimSuffix(output, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("output has %d lines, want %d:\n%s", len(lines), len(want), output)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], want[i])
		}
	}
}

func TestCheckStoredReportsFailures(t *testing.T) {
	ctx := context.Background()
	dataSource := pgtest.NewDatabase(t)
	st := openPortalDatabase(t, dataSource)
	insertGreetVersion(t, dataSource, "1.1.0", topLevelCallSource)
	insertGreetVersion(t, dataSource, "1.2.0", goStatementSource)

	// acme runs 1.1.0 in a pinned binding and in one that follows its
	// install. globex runs 1.0.0.
	createGreetBinding(t, st, "acme", "1.1.0")
	if _, err := st.CreateInstall(ctx, "acme", store.InstallRequest{Plugin: "greet", Version: "1.1.0"}); err != nil {
		t.Fatalf("install greet 1.1.0 in acme: %v", err)
	}
	createGreetBinding(t, st, "acme", "")
	createGreetBinding(t, st, "globex", "1.0.0")

	code, stdout, stderr := runCheckStoredCommand(t, "--db", dataSource)
	if code != 1 {
		t.Errorf("exit code = %d, want 1; stderr %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want it empty", stderr)
	}
	checkOutputLines(t, stdout, []string{
		`FAIL  greet 1.1.0: 2 bindings (acme: 1 pinned, 1 following the install): line 1, column 1: assigning a call to "greeting" is not allowed at top level`,
		`FAIL  greet 1.2.0: no bindings: line 2, column 3: a go statement is not allowed`,
		"1 of 3 versions compile",
	})
	if strings.Contains(stdout, bindingSecret) {
		t.Errorf("output contains a binding's config value:\n%s", stdout)
	}
}

// TestCheckStoredAllCompile reads the SQLite file in the data folder, where
// serve keeps it when --db is empty.
func TestCheckStoredAllCompile(t *testing.T) {
	t.Setenv("PORTCULLIS_DB", "")
	dataDir := t.TempDir()
	st := openPortalDatabase(t, filepath.Join(dataDir, "portcullis.db"))
	createGreetBinding(t, st, "acme", "1.0.0")

	code, stdout, stderr := runCheckStoredCommand(t, "--data-dir", dataDir)
	if code != 0 {
		t.Errorf("exit code = %d, want 0; stderr %s", code, stderr)
	}
	checkOutputLines(t, stdout, []string{"1 of 1 versions compile"})
}

// deepParenthesesSource nests a constant in 120,000 parentheses. Risor's
// parser recurses once per level, and under the 64 MiB stack limit of a
// plugin worker the Go runtime ends the process with a stack overflow.
func deepParenthesesSource() string {
	const depth = 120_000
	return "x := " + strings.Repeat("(", depth) + "1" + strings.Repeat(")", depth) + "\nfunc access(ctx, conf) {}\n"
}

// TestCheckStoredSurvivesCrash checks that a version whose compile ends the
// child process fails with the cause, and that the versions after it still
// compile, in a new child.
func TestCheckStoredSurvivesCrash(t *testing.T) {
	dataSource := pgtest.NewDatabase(t)
	openPortalDatabase(t, dataSource)
	insertGreetVersion(t, dataSource, "1.1.0", deepParenthesesSource())
	insertGreetVersion(t, dataSource, "1.2.0", goStatementSource)

	code, stdout, stderr := runCheckStoredCommand(t, "--db", dataSource)
	if code != 1 {
		t.Errorf("exit code = %d, want 1; stderr %s", code, stderr)
	}
	checkOutputLines(t, stdout, []string{
		"FAIL  greet 1.1.0: no bindings: the version's source ended the process that compiled it: exit status 2: fatal error: stack overflow",
		"FAIL  greet 1.2.0: no bindings: line 2, column 3: a go statement is not allowed",
		"1 of 3 versions compile",
	})
	if strings.Contains(stdout+stderr, "goroutine ") {
		t.Errorf("output contains a Go trace:\n%s\n%s", stdout, stderr)
	}
}

// slowSource chains 120,000 additions in one constant. Compiling it takes
// tens of seconds, far above the timeout that the test sets.
func slowSource() string {
	return "x := 1" + strings.Repeat("+1", 120_000) + "\nfunc access(ctx, conf) {}\n"
}

func TestCheckStoredCompileTimeout(t *testing.T) {
	dataSource := pgtest.NewDatabase(t)
	openPortalDatabase(t, dataSource)
	insertGreetVersion(t, dataSource, "1.1.0", slowSource())
	insertGreetVersion(t, dataSource, "1.2.0", goStatementSource)

	code, stdout, stderr := runCheckStoredCommand(t, "--db", dataSource, "--compile-timeout", "2s")
	if code != 1 {
		t.Errorf("exit code = %d, want 1; stderr %s", code, stderr)
	}
	checkOutputLines(t, stdout, []string{
		"FAIL  greet 1.1.0: no bindings: the compile timed out after 2s, so its process was stopped",
		"FAIL  greet 1.2.0: no bindings: line 2, column 3: a go statement is not allowed",
		"1 of 3 versions compile",
	})
}

// missingDatabaseURL returns the URL of a database that does not exist on
// the test server.
func missingDatabaseURL(t *testing.T) string {
	t.Helper()

	server := os.Getenv(pgtest.EnvServer)
	if server == "" {
		server = pgtest.DefaultServer
	}
	parsed, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Path = "/portcullis_never_created"
	return parsed.String()
}

func TestCheckStoredUsageAndConnectionErrors(t *testing.T) {
	t.Setenv("PORTCULLIS_DB", "")
	emptyDataDir := t.TempDir()

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"stray argument", []string{"extra"}, []string{`unexpected argument "extra"`}},
		{"unknown flag", []string{"--no-such-flag"}, []string{"flag provided but not defined: -no-such-flag"}},
		{"zero compile timeout", []string{"--compile-timeout", "0s"}, []string{"compile timeout 0s is invalid", "--compile-timeout"}},
		{"database of another scheme", []string{"--db", "mysql://user:secret@127.0.0.1/op"}, []string{`the scheme "mysql"`, "--db"}},
		{"missing postgres database", []string{"--db", missingDatabaseURL(t)}, []string{"portcullis_never_created", "create the database first", "--db"}},
		{"missing sqlite file", []string{"--data-dir", emptyDataDir}, []string{filepath.Join(emptyDataDir, "portcullis.db"), "the file does not exist", "--data-dir"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			code, stdout, stderr := runCheckStoredCommand(t, test.args...)
			if code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want it empty", stdout)
			}
			for _, want := range test.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, want)
				}
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("stderr = %q shows the database password", stderr)
			}
		})
	}

	if entries, err := os.ReadDir(emptyDataDir); err != nil || len(entries) != 0 {
		t.Errorf("data folder after the check: %d entries, error %v; want it left empty", len(entries), err)
	}
}

func TestCheckStoredHelp(t *testing.T) {
	code, stdout, stderr := runCheckStoredCommand(t, "-h")
	if code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want it empty", stdout)
	}
	for _, want := range []string{"Usage: portcullis plugin check-stored", "Exit status: 0", "-compile-timeout", "-db", "-data-dir"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("help lacks %q:\n%s", want, stderr)
		}
	}
}

func TestDescribeUsers(t *testing.T) {
	tests := []struct {
		name  string
		users []store.VersionUsers
		want  string
	}{
		{"none", nil, "no bindings"},
		{"one pinned", []store.VersionUsers{{Tenant: "acme", Pinned: 1}}, "1 binding (acme: 1 pinned)"},
		{"one following", []store.VersionUsers{{Tenant: "acme", Following: 1}}, "1 binding (acme: 1 following the install)"},
		{
			"two tenants",
			[]store.VersionUsers{{Tenant: "acme", Pinned: 2, Following: 1}, {Tenant: "globex", Pinned: 1}},
			"4 bindings (acme: 2 pinned, 1 following the install; globex: 1 pinned)",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := describeUsers(test.users); got != test.want {
				t.Errorf("describeUsers() = %q, want %q", got, test.want)
			}
		})
	}
}

func TestPrintableEscapesControlCharacters(t *testing.T) {
	got := printable("line 1, column 2: \"a\nb\x1b[31m\u202e\" 中文")
	want := `line 1, column 2: "a\nb\x1b[31m\u202e" 中文`
	if got != want {
		t.Errorf("printable() = %q, want %q", got, want)
	}
}
