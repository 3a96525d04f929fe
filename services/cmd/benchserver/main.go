// Command benchserver starts the benchmark set-up for external load tools
// such as wrk and h2load. It runs the all-in-one server on free loopback
// ports and a fixed-response upstream. Tenant "plain" has a route without
// plugins, tenant "chain5" the same route with five light plugins inside
// the edge process (the trusted tier), and tenant "sandbox5" the same five
// plugins in a plugin worker process (the sandboxed tier). It prints the
// addresses as shell assignments, then serves until SIGINT or SIGTERM, or
// until -lifetime passes. Run as "benchserver worker", it is that worker.
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
	addrs := env.Server.Edge().Addrs()
	fmt.Printf("EDGE_HTTP=%s\nEDGE_HTTPS=%s\nEDGE_HTTP3=%s\nUPSTREAM=%s\nCA_CERT=%s\nREADY=1\n",
		addrs.HTTP, addrs.HTTPS, addrs.HTTP3, env.UpstreamURL, env.CertFile)

	<-ctx.Done()
	return nil
}

// setUp publishes the light plugins and creates the three tenants.
func setUp(ctx context.Context, env *benchenv.Env) error {
	for i := range chainLength {
		if err := env.PublishLight(ctx, i, "1.0.0"); err != nil {
			return fmt.Errorf("publish %q: %w", benchenv.LightName(i), err)
		}
	}
	if _, err := env.AddTenant(ctx, "plain", 0); err != nil {
		return err
	}
	if _, err := env.AddTenantTier(ctx, "chain5", chainLength, config.TierTrusted); err != nil {
		return err
	}
	_, err := env.AddTenantTier(ctx, "sandbox5", chainLength, config.TierSandboxed)
	return err
}
