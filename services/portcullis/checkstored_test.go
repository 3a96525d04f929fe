package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/portal/store"
	"portcullis.dev/portal/store/migrations"
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

// topLevelTypeErrorSource passes the top-level rules, but its top-level
// code fails when it runs, on line 3, column 1.
const topLevelTypeErrorSource = "greeting := \"hi\"\nfunc access(ctx, conf) {}\nbroken := greeting + 1\n"

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
	insertGreetVersion(t, dataSource, "1.3.0", topLevelTypeErrorSource)

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
		`FAIL  greet 1.3.0: no bindings: line 3, column 1: run top-level code: type error: `,
		"1 of 4 versions compile",
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

// operatorChainsSource returns a source of about size bytes made of long
// chains of + inside functions nested as deep as the compile's limits
// allow, the slowest shape within them. At 256 KiB it compiles in about
// 0.3 s (BenchmarkCompileWorstShape in pluginhost), so 2 MiB takes
// seconds.
func operatorChainsSource(size int) string {
	levels := pluginhost.MaxFunctionNesting - 1
	chain := "\tx = x" + strings.Repeat(" + x", pluginhost.MaxNesting-15) + "\n"
	tail := strings.Repeat("}\n", levels) + "}\n"
	var source strings.Builder
	source.WriteString("func access(ctx, conf) {\n\tx := 0\n" + strings.Repeat("f := func() {\n", levels))
	for source.Len()+len(chain)+len(tail) < size {
		source.WriteString(chain)
	}
	source.WriteString(tail)
	return source.String()
}

// TestCheckStoredSurvivesCrash checks that a version whose compile ends the
// child process fails with the cause, and that the versions after it still
// compile, in a new child. No source within the compile's limits crashes
// it, so the test kills the first child itself during a compile of
// seconds. SIGQUIT, which makes the Go runtime exit with status 2, once
// crashed the race-instrumented child in its own signal handler instead.
func TestCheckStoredSurvivesCrash(t *testing.T) {
	dataSource := pgtest.NewDatabase(t)
	openPortalDatabase(t, dataSource)
	insertGreetVersion(t, dataSource, "1.1.0", operatorChainsSource(2<<20))
	insertGreetVersion(t, dataSource, "1.2.0", goStatementSource)

	done := make(chan struct{})
	signalled := make(chan error, 1)
	go func() { signalled <- killFirstCompileChild(done) }()
	code, stdout, stderr := runCheckStoredCommand(t, "--db", dataSource)
	close(done)

	if err := <-signalled; err != nil {
		t.Fatal(err)
	}
	if code != 1 {
		t.Errorf("exit code = %d, want 1; stderr %s", code, stderr)
	}
	checkOutputLines(t, stdout, []string{
		"FAIL  greet 1.1.0: no bindings: the version's source ended the process that compiled it: signal: killed",
		"FAIL  greet 1.2.0: no bindings: line 2, column 3: a go statement is not allowed",
		"1 of 3 versions compile",
	})
	if strings.Contains(stdout+stderr, "goroutine ") {
		t.Errorf("output contains a Go trace:\n%s\n%s", stdout, stderr)
	}
}

// killFirstCompileChild waits for the first compile child of this process,
// lets it start compiling, and kills it. It gives up when done is closed
// or after a minute.
func killFirstCompileChild(done <-chan struct{}) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errors.New("the check ended before a compile child started")
		case <-time.After(10 * time.Millisecond):
		}

		pid, found := compileChild()
		if !found {
			continue
		}
		time.Sleep(300 * time.Millisecond)
		return syscall.Kill(pid, syscall.SIGKILL)
	}
	return errors.New("no compile child started within a minute")
}

// compileChild returns the pid of a child of this process that runs the
// compile command, read from /proc.
func compileChild() (int, bool) {
	entries, _ := os.ReadDir("/proc")
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command's closing parenthesis are the
		// state and the parent's pid.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
		if bytes.Contains(cmdline, []byte(childCompileCommand)) {
			return pid, true
		}
	}
	return 0, false
}

func TestCheckStoredCompileTimeout(t *testing.T) {
	dataSource := pgtest.NewDatabase(t)
	openPortalDatabase(t, dataSource)
	insertGreetVersion(t, dataSource, "1.1.0", operatorChainsSource(2<<20))
	insertGreetVersion(t, dataSource, "1.2.0", goStatementSource)

	code, stdout, stderr := runCheckStoredCommand(t, "--db", dataSource, "--compile-timeout", "500ms")
	if code != 1 {
		t.Errorf("exit code = %d, want 1; stderr %s", code, stderr)
	}
	checkOutputLines(t, stdout, []string{
		"FAIL  greet 1.1.0: no bindings: the compile timed out after 500ms, so its process was stopped",
		"FAIL  greet 1.2.0: no bindings: line 2, column 3: a go statement is not allowed",
		"1 of 3 versions compile",
	})
}

// TestCheckStoredOlderSchema runs the check on the database of a portal
// release before schema version store.StoredVersionsSchema, which lacks
// the column bindings.follows_install that the check reads.
func TestCheckStoredOlderSchema(t *testing.T) {
	dataSource := pgtest.NewDatabase(t)
	db, err := sql.Open("pgx", dataSource)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	older := int64(store.StoredVersionsSchema - 1)
	if err := migrations.UpTo(context.Background(), db, migrations.Postgres, older); err != nil {
		t.Fatalf("migrate to version %d: %v", older, err)
	}

	code, stdout, stderr := runCheckStoredCommand(t, "--db", dataSource)
	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want it empty", stdout)
	}
	wants := []string{
		fmt.Sprintf("has schema version %d,", older),
		fmt.Sprintf("reads schema version %d or newer", store.StoredVersionsSchema),
		fmt.Sprintf("upgrade the portal to a release whose schema is version %d or newer", store.StoredVersionsSchema),
		"changes no plugin code",
	}
	for _, want := range wants {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "follows_install") {
		t.Errorf("stderr = %q, want the schema version instead of the SQL error", stderr)
	}
}

// TestCheckStoredNewerSchema runs the check on a database that a portal of
// a later release migrated. The check warns and reads it.
func TestCheckStoredNewerSchema(t *testing.T) {
	dataSource := pgtest.NewDatabase(t)
	openPortalDatabase(t, dataSource)
	latest, err := migrations.Latest(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dataSource)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO "+migrations.VersionTable+" (version_id, is_applied) VALUES ($1, true)", latest+1); err != nil {
		t.Fatalf("record schema version %d: %v", latest+1, err)
	}

	code, stdout, stderr := runCheckStoredCommand(t, "--db", dataSource)
	if code != 0 {
		t.Errorf("exit code = %d, want 0; stderr %s", code, stderr)
	}
	checkOutputLines(t, stdout, []string{"1 of 1 versions compile"})
	checkOutputLines(t, stderr, []string{"plugin check-stored: warning: database "})
	if want := fmt.Sprintf("has schema version %d, newer than version %d of this release", latest+1, latest); !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr, want)
	}
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
		{"missing postgres database", []string{"--db", pgtest.MissingDatabaseURL(t)}, []string{"portcullis_never_created", "does not exist", "name the portal's existing database with --db"}},
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
			// An empty database has no portal schema, so creating the
			// missing one would not help.
			for _, reject := range []string{"createdb", "create the database"} {
				if strings.Contains(stderr, reject) {
					t.Errorf("stderr = %q, want it without %q", stderr, reject)
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

// unsetEnv unsets the variable name for the test and restores it after.
func unsetEnv(t *testing.T, name string) {
	t.Helper()

	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

func TestCheckStoredHelp(t *testing.T) {
	unsetEnv(t, "PORTCULLIS_DATA_DIR")
	code, stdout, stderr := runCheckStoredCommand(t, "-h")
	if code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want it empty", stdout)
	}
	wants := []string{
		"Usage: portcullis plugin check-stored",
		fmt.Sprintf("schema must be version %d or newer", store.StoredVersionsSchema),
		fmt.Sprintf("a schema older than version %d.", store.StoredVersionsSchema),
		"Exit status: 0",
		"-compile-timeout",
		"-db",
		"-data-dir",
		`folder whose SQLite database portcullis.db the check reads when --db is empty (env PORTCULLIS_DATA_DIR) (default "./data")`,
	}
	for _, want := range wants {
		if !strings.Contains(stderr, want) {
			t.Errorf("help lacks %q:\n%s", want, stderr)
		}
	}
	// The check reads the database only, not serve's other files in the
	// data folder.
	for _, reject := range []string{"operator token", "certificate", "%!"} {
		if strings.Contains(stderr, reject) {
			t.Errorf("help contains %q:\n%s", reject, stderr)
		}
	}
}

// TestServeDataDirHelp checks that serve keeps its own help of --data-dir,
// which check-stored's flag shares the definition of.
func TestServeDataDirHelp(t *testing.T) {
	unsetEnv(t, "PORTCULLIS_DATA_DIR")
	var help bytes.Buffer
	if _, _, _, err := parseServeFlags([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseServeFlags(-h) error = %v, want flag.ErrHelp", err)
	}
	want := `folder for the SQLite database, operator token and development certificate (env PORTCULLIS_DATA_DIR) (default "./data")`
	if !strings.Contains(help.String(), want) {
		t.Errorf("serve help lacks %q:\n%s", want, help.String())
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
