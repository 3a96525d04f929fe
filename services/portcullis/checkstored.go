package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"portcullis.dev/portal/store"
	"portcullis.dev/services/internal/datadir"
)

const checkStoredUsage = `Usage: portcullis plugin check-stored [--db URL] [--data-dir DIR] [--compile-timeout DURATION]

Compiles every plugin version stored in the portal's database with the
compile rules of this portcullis release, which its edges apply. A version
published under the rules of an older release can fail them, and an edge
of this release then fails to build the config of each tenant with an
enabled binding of that version. Run the command with the new release
before upgrading edges.

It prints one line per version that fails, with the compile error and
each tenant's bindings of the version, enabled or not: pinned to it, or
following the tenant's install while the install resolves to it. A
summary line "N of M versions compile" follows. Binding configs are not
read.

The command only reads the database and applies no schema migrations. The
versions compile in a child process with the limits of a plugin worker,
because compiling runs a version's top-level code.

The database's schema must be version %d or newer: for an older schema,
upgrade the portal first. For a schema newer than this release's, the
command prints a warning and still reads it.

Exit status: 0 when every version compiles, 1 when a version fails, and 2
when the check cannot run, such as for an invalid flag, a database that
cannot be opened or a schema older than version %[1]d.

Flags:
`

// defaultCompileTimeout bounds the compile of one version. It catches a
// compile that hangs: pluginhost stops top-level code after one second,
// but parsing and compiling have no bound of their own, and a source that
// chains tens of thousands of operators takes seconds to compile.
const defaultCompileTimeout = 2 * time.Minute

// databaseHint is the fix that follows an error of opening the portal's
// database.
const databaseHint = "set --db (env PORTCULLIS_DB) to the portal's database, or --data-dir (env PORTCULLIS_DATA_DIR) to the data folder that contains its portcullis.db"

// missingDatabaseHint is the fix that follows the error of a PostgreSQL
// database that does not exist. Unlike serve, which creates its schema in
// an empty database, the check needs the database that the portal uses.
const missingDatabaseHint = "name the portal's existing database with --db (env PORTCULLIS_DB)"

// runCheckStored runs "portcullis plugin check-stored" and returns the exit
// code.
func runCheckStored(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("plugin check-stored", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprintf(stderr, checkStoredUsage, store.StoredVersionsSchema); flags.PrintDefaults() }
	var db, dataDir string
	registerDatabaseFlags(flags, &db, &dataDir, "folder whose SQLite database portcullis.db the check reads when --db is empty")
	compileTimeout := flags.Duration("compile-timeout", defaultCompileTimeout, "longest time that the compile of one version may take, such as 30s or 5m; a slower version fails")

	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "plugin check-stored: unexpected argument %q: the command takes flags only, such as --db URL\n", flags.Arg(0))
		return 2
	}
	if *compileTimeout <= 0 {
		fmt.Fprintf(stderr, "plugin check-stored: compile timeout %s is invalid: use a positive duration such as 2m (--compile-timeout)\n", *compileTimeout)
		return 2
	}
	if err := checkDB(db); err != nil {
		fmt.Fprintf(stderr, "plugin check-stored: %v\n", err)
		return 2
	}

	versions, err := readStoredVersions(db, dataDir, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "plugin check-stored: %v\n", err)
		return 2
	}
	failures, err := compileStoredVersions(versions, *compileTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "plugin check-stored: %v\n", err)
		return 2
	}
	return printCheckReport(stdout, versions, failures)
}

// readStoredVersions reads every stored plugin version from the database
// that db names, or from portcullis.db in dataDir when db is empty, as
// serve finds it. It fails for a schema older than the one it can read,
// and writes a warning to stderr for a schema newer than this release's.
func readStoredVersions(db, dataDir string, stderr io.Writer) ([]store.StoredVersion, error) {
	dataSource := db
	if dataSource == "" {
		dataSource = (&datadir.Dir{Path: dataDir}).DatabaseFile()
	}

	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	st, err := store.OpenReadOnly(ctx, dataSource, nil)
	if err != nil {
		if store.IsMissingDatabase(err) {
			return nil, fmt.Errorf("%w: %s", err, missingDatabaseHint)
		}
		return nil, fmt.Errorf("%w: %s", err, databaseHint)
	}
	defer st.Close()

	name := store.RedactURL(dataSource)
	applied, latest, err := st.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("database %q: %w", name, err)
	}
	if applied < store.StoredVersionsSchema {
		return nil, fmt.Errorf("database %q has schema version %d, and the check reads schema version %d or newer: "+
			"upgrade the portal to a release whose schema is version %d or newer, then run the check again. "+
			"Upgrading the portal changes no plugin code, so the check still finds the versions that fail",
			name, applied, store.StoredVersionsSchema, store.StoredVersionsSchema)
	}
	if applied > latest {
		fmt.Fprintf(stderr, "plugin check-stored: warning: database %q has schema version %d, newer than version %d of this release. The check reads it as long as the tables that it reads keep their columns\n", name, applied, latest)
	}

	versions, err := st.ListStoredVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the plugin versions of database %q: %w", name, err)
	}
	return versions, nil
}

// printCheckReport prints a line for each version whose entry in failures
// is not empty, then the summary, and returns the exit code.
func printCheckReport(stdout io.Writer, versions []store.StoredVersion, failures []string) int {
	failed := 0
	for i, version := range versions {
		if failures[i] == "" {
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL  %s %s: %s: %s\n", version.Name, version.Version, describeUsers(version.Users), printable(failures[i]))
	}

	fmt.Fprintf(stdout, "%d of %d versions compile\n", len(versions)-failed, len(versions))
	if failed > 0 {
		return 1
	}
	return 0
}

// describeUsers returns the bindings of a version by tenant, such as "3
// bindings (acme: 2 pinned, 1 following the install; globex: 1 pinned)",
// or "no bindings".
func describeUsers(users []store.VersionUsers) string {
	total := 0
	tenants := make([]string, 0, len(users))
	for _, user := range users {
		var counts []string
		if user.Pinned > 0 {
			counts = append(counts, fmt.Sprintf("%d pinned", user.Pinned))
		}
		if user.Following > 0 {
			counts = append(counts, fmt.Sprintf("%d following the install", user.Following))
		}
		tenants = append(tenants, user.Tenant+": "+strings.Join(counts, ", "))
		total += user.Pinned + user.Following
	}

	switch total {
	case 0:
		return "no bindings"
	case 1:
		return fmt.Sprintf("1 binding (%s)", strings.Join(tenants, "; "))
	}
	return fmt.Sprintf("%d bindings (%s)", total, strings.Join(tenants, "; "))
}

// printable returns text with each character that is not printable, such
// as a line break or a terminal escape, written as a Go escape sequence.
// A compile error can quote the version's source, which its publisher
// wrote.
func printable(text string) string {
	var b strings.Builder
	for _, r := range text {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		quoted := strconv.QuoteRune(r)
		b.WriteString(quoted[1 : len(quoted)-1])
	}
	return b.String()
}
