package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"portcullis.dev/plugins-marketplace/pluginpkg"
)

const pluginUsage = `Usage: portcullis plugin test DIR

Loads the plugin package in DIR (a folder, .zip, .tar.gz or .tgz), compiles
its source and runs its test vectors offline. It prints one line per vector
and a summary, and exits with 1 when a vector fails or the package is
invalid. Vectors that require Redis or a binding's config are skipped.
`

// runPlugin runs "portcullis plugin" and returns the exit code.
func runPlugin(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "test" {
		fmt.Fprint(stderr, pluginUsage)
		return 2
	}

	pkg, err := pluginpkg.Load(args[1])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	results, err := pkg.Test(context.Background(), pluginpkg.RunOptions{})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	for _, result := range results {
		line := fmt.Sprintf("%s  %s", strings.ToUpper(string(result.Outcome)), result.Vector)
		if len(result.Differences) > 0 {
			line += ": " + strings.Join(result.Differences, "; ")
		}
		fmt.Fprintln(stdout, line)
	}

	passed, failed, skipped := pluginpkg.Count(results)
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintln(stdout, summary)
	if failed > 0 {
		return 1
	}
	return 0
}
