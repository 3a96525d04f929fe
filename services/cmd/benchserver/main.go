// Command benchserver starts the benchmark set-up for external load tools
// such as wrk and h2load. It runs the all-in-one server on free loopback
// ports and a fixed-response upstream. Tenant "plain" has a route without
// plugins, tenant "chain5" the same route with five light plugins inside
// the edge process (the trusted tier), and tenant "sandbox5" the same five
// plugins in a plugin worker process (the sandboxed tier). The light
// plugins' hooks are static, and tenant "checked5" binds five trusted
// plugins that add the same headers from hooks that run in Risor's VM
// (benchenv.CheckedSource), and "checkedsb5" the same plugins in a plugin
// worker. Tenants
// "empty5" and "emptysb5" bind five plugins whose hooks do nothing, in each
// tier, and tenant "headers5" has a route without plugins whose requests
// get the light plugins' headers from Go code on the reference listeners
// (reference.go). It prints the addresses as shell assignments, then
// serves until SIGINT or SIGTERM, or until -lifetime passes. Run as
// "benchserver worker", it is that worker.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/services/internal/benchenv"
	"portcullis.dev/tenants/config"
)

// chainLength is the number of light plugins on tenant chain5's route.
const chainLength = 5

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(worker.Main(os.Args[2:], os.Stderr))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
}

func run() error {
	lifetime := flag.Duration("lifetime", 10*time.Minute, "stop after this long even without a signal")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this loopback address, such as 127.0.0.1:6060; empty turns it off")
	flag.Parse()

	if *pprofAddr != "" {
		go func() {
			// The profiles are served on the default mux only.
			fmt.Fprintln(os.Stderr, "benchserver: pprof:", http.ListenAndServe(*pprofAddr, nil))
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()

	dataDir, err := os.MkdirTemp("", "portcullis-benchserver-")
	if err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	defer os.RemoveAll(dataDir)

	executable, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the benchserver executable for plugin workers: %w", err)
	}
	env, err := benchenv.StartWith(ctx, dataDir, benchenv.Options{WorkerCommand: []string{executable, "worker"}})
	if err != nil {
		return err
	}
	defer env.Close()

	if err := setUp(ctx, env); err != nil {
		return err
	}
	ref, err := startReference(env)
	if err != nil {
		return err
	}
	defer ref.Shutdown(context.Background())

	addrs := env.Server.Edge().Addrs()
	fmt.Printf("EDGE_HTTP=%s\nEDGE_HTTPS=%s\nEDGE_HTTP3=%s\nREFERENCE_HTTP=%s\nREFERENCE_HTTPS=%s\nUPSTREAM=%s\nCA_CERT=%s\nREADY=1\n",
		addrs.HTTP, addrs.HTTPS, addrs.HTTP3, ref.HTTP, ref.HTTPS, env.UpstreamURL, env.CertFile)

	<-ctx.Done()
	return nil
}

// setUp publishes the light and empty plugins and creates the tenants.
func setUp(ctx context.Context, env *benchenv.Env) error {
	empty := make([]string, chainLength)
	checked := make([]string, chainLength)
	for i := range chainLength {
		if err := env.PublishLight(ctx, i, "1.0.0"); err != nil {
			return fmt.Errorf("publish %q: %w", benchenv.LightName(i), err)
		}
		if err := env.PublishEmpty(ctx, i); err != nil {
			return fmt.Errorf("publish %q: %w", benchenv.EmptyName(i), err)
		}
		empty[i] = benchenv.EmptyName(i)
		if err := env.PublishChecked(ctx, i, "1.0.0"); err != nil {
			return fmt.Errorf("publish %q: %w", benchenv.CheckedName(i), err)
		}
		checked[i] = benchenv.CheckedName(i)
	}

	tenants := []struct {
		name    string
		plugins []string
		tier    string
	}{
		{"plain", nil, ""},
		{headersTenant, nil, ""},
		{"chain5", lightNames(), config.TierTrusted},
		{"checked5", checked, config.TierTrusted},
		{"checkedsb5", checked, config.TierSandboxed},
		{"sandbox5", lightNames(), config.TierSandboxed},
		{"empty5", empty, config.TierTrusted},
		{"emptysb5", empty, config.TierSandboxed},
	}
	for _, t := range tenants {
		if _, err := env.AddTenantPlugins(ctx, t.name, t.plugins, t.tier); err != nil {
			return err
		}
	}
	return nil
}

// lightNames returns the names of the light plugins of chain5.
func lightNames() []string {
	names := make([]string, chainLength)
	for i := range names {
		names[i] = benchenv.LightName(i)
	}
	return names
}
