// Command portcullis runs the Portcullis API gateway: the portal, the edge,
// or both in one process.
package main

import (
	"fmt"
	"os"
)

const usage = `Usage: portcullis <command> [flags]

Commands:
  serve     run the portal and the edge (see "portcullis serve -h")
  plugin    test a plugin package: "portcullis plugin test DIR", or compile
            every stored version before upgrading edges:
            "portcullis plugin check-stored --db URL"
  apply     make a tenant's config match a YAML file: "portcullis apply -f FILE"
  export    write a tenant's config as YAML: "portcullis export --tenant SLUG"
  version   print the version

`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}

	switch os.Args[1] {
	case "serve":
		if err := enableH2WebSocket(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "portcullis serve:", err)
			os.Exit(2)
		}
		os.Exit(runServe(os.Args[2:]))
	case "plugin":
		os.Exit(runPlugin(os.Args[2:], os.Stdout, os.Stderr))
	case "apply":
		os.Exit(runApply(os.Args[2:], os.Stdout, os.Stderr))
	case "export":
		os.Exit(runExport(os.Args[2:], os.Stdout, os.Stderr))
	case "worker":
		os.Exit(runWorker(os.Args[2:]))
	case "version", "--version", "-v":
		fmt.Println("portcullis", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
