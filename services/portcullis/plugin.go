package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/portal/store"
)

const pluginUsage = `Usage: portcullis plugin test DIR
       portcullis plugin check-stored [--db URL] [--data-dir DIR]

"plugin test" loads the plugin package in DIR (a folder, .zip, .tar.gz or
.tgz), compiles its source and runs its test vectors offline. It prints
one line per vector and a summary, and exits with 1 when a vector fails or
the package is invalid. Vectors that require Redis or a binding's config
are skipped. The source and the vectors run in a child process with the
memory and stack limits of a plugin worker, so a script that exhausts
memory or overflows its stack fails the test with the cause.

"plugin check-stored" compiles every plugin version in the portal's
database with the compile rules of this release, and lists the versions
that fail with the bindings that run them. Run it before upgrading edges.
"portcullis plugin check-stored -h" describes its flags and exit status.
`

// childTestCommand is the hidden "portcullis plugin" command that the
// child process of "plugin test" runs: the test itself, in its own process.
const childTestCommand = "test-child"

// runPlugin runs "portcullis plugin" and returns the exit code.
func runPlugin(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 2 && args[0] == "test":
		return testInChild(args[1], stdout, stderr)
	case len(args) == 2 && args[0] == childTestCommand:
		return runChildTest(args[1], stdout, stderr)
	case len(args) >= 1 && args[0] == "check-stored":
		return runCheckStored(args[1:], stdout, stderr)
	case len(args) == 1 && args[0] == childCompileCommand:
		return runChildCompile(os.Stdin, stdout, stderr)
	}
	fmt.Fprint(stderr, pluginUsage)
	return 2
}

// testInChild runs the test of the package at dir in a child process of
// this executable, as "portcullis plugin test-child DIR", and passes its
// output on. A script that exhausts memory or overflows its stack ends the
// Go process that runs it, with a crash report of hundreds of lines. Then
// only the child ends, and testInChild prints one line with the cause in
// place of the report.
func testInChild(dir string, stdout, stderr io.Writer) int {
	executable, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "plugin test: find the portcullis executable to run the test vectors in: %v\n", err)
		return 1
	}

	childStderr := &stderrCapture{}
	child := exec.Command(executable, "plugin", childTestCommand, dir)
	child.Stdout = stdout
	child.Stderr = childStderr
	err = child.Run()

	// The child exits with 0 or 1 by itself. Any other end, such as the Go
	// runtime's exit status 2 after a fatal error or a kill by a signal, is
	// a crash.
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		childStderr.copyTo(stderr)
		return 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 1:
		childStderr.copyTo(stderr)
		return 1
	case errors.As(err, &exitErr):
		fmt.Fprintf(stderr, "plugin test: the plugin's code ended the process that ran its test vectors: %s\n", childStderr.summary(exitErr.ProcessState))
		return 1
	}
	fmt.Fprintf(stderr, "plugin test: run the test vectors in a child process: %v\n", err)
	return 1
}

// runChildTest loads the package at dir, compiles its source and runs its
// vectors in this process, under the limits of a plugin worker. It prints
// each vector's line as soon as the vector has run, so the lines before a
// crash still reach the user.
func runChildTest(dir string, stdout, stderr io.Writer) int {
	if err := worker.ApplyLimits(worker.DefaultMemoryLimit, worker.DefaultMaxStack, 0); err != nil {
		fmt.Fprintf(stderr, "plugin test: limit the process that runs the test vectors: %v\n", err)
		return 1
	}

	pkg, err := pluginpkg.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := checkSchemas(pkg); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	plugin, err := pkg.Compile()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	var results []pluginpkg.Result
	for i := range pkg.Vectors {
		result := pluginpkg.Run(context.Background(), plugin, pkg.Vectors[i:i+1], pluginpkg.RunOptions{})[0]
		printResult(stdout, result)
		results = append(results, result)
	}

	if failed := printSummary(stdout, results); failed > 0 {
		return 1
	}
	return 0
}

// checkSchemas checks the package's config schema as publishing does, and
// the config of each vector that has one against it as a binding write
// does, so the test fails where the portal would reject the package or
// the config.
func checkSchemas(pkg *pluginpkg.Package) error {
	schemaFile := pkg.ManifestFile
	if file := pkg.Manifest.SchemaFile(); file != "" {
		schemaFile = file
	}
	if err := store.CheckSchema(pkg.ConfigSchema); err != nil {
		return fmt.Errorf("%s: %w", schemaFile, err)
	}

	for _, vector := range pkg.Vectors {
		if len(vector.Config) == 0 {
			continue
		}
		if err := store.CheckConfig(pkg.ConfigSchema, vector.Config); err != nil {
			return fmt.Errorf("%s: vector %q: the config does not match config_schema: %w", pluginpkg.TestsFile, vector.Name, err)
		}
	}
	return nil
}

// printSummary prints the count of each outcome, such as "1 passed, 1
// failed, 2 skipped", and returns the count of failed vectors.
func printSummary(stdout io.Writer, results []pluginpkg.Result) int {
	passed, failed, skipped := pluginpkg.Count(results)
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintln(stdout, summary)
	return failed
}

// printResult prints one vector's line, such as "FAIL  name: status = 403,
// want 200".
func printResult(stdout io.Writer, result pluginpkg.Result) {
	line := fmt.Sprintf("%s  %s", strings.ToUpper(string(result.Outcome)), result.Vector)
	if len(result.Differences) > 0 {
		line += ": " + strings.Join(result.Differences, "; ")
	}
	fmt.Fprintln(stdout, line)
}
