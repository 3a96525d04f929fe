// Command hotswap measures what plugin swaps cost under load. It starts the
// all-in-one server in-process on free loopback ports with a loopback
// upstream, binds one checked plugin (benchenv.CheckedSource), whose hooks
// run in Risor's VM, and runs two phases of equal length at full
// concurrency: first without changes, then while a second goroutine
// changes the binding's code version and its config through the portal API,
// spread over the phase. It prints requests, errors, swaps applied and the
// throughput ratio of the two phases, and exits non-zero on any error or
// when the edge does not serve the final version and config. With -tier
// sandboxed the binding's hooks run in a plugin worker process, which is
// this executable run as "hotswap worker".
//
// Usage:
//
//	hotswap -duration 60s -c 16 -proto h1 -tier trusted
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/services/internal/benchenv"
	"portcullis.dev/services/internal/loadgen"
	"portcullis.dev/tenants/config"
)

// options are the command's flags.
type options struct {
	duration    time.Duration
	concurrency int
	protocol    string
	versions    int
	configs     int
	tier        string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(worker.Main(os.Args[2:], os.Stderr))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hotswap:", err)
		os.Exit(1)
	}
}

func run() error {
	var opts options
	flag.DurationVar(&opts.duration, "duration", 60*time.Second, "length of each phase (without and with swaps)")
	flag.IntVar(&opts.concurrency, "c", 16, "concurrent load workers")
	flag.StringVar(&opts.protocol, "proto", loadgen.HTTP1, "load protocol: h1, h2 or h3")
	flag.IntVar(&opts.versions, "versions", 100, "code version changes in the swap phase")
	flag.IntVar(&opts.configs, "configs", 100, "config changes in the swap phase")
	flag.StringVar(&opts.tier, "tier", config.TierTrusted, "where the plugin's hooks run: trusted (in the edge process) or sandboxed (in a plugin worker process)")
	flag.Parse()
	if opts.duration <= 0 || opts.duration > 10*time.Minute {
		return fmt.Errorf("invalid -duration %v: use more than 0 and at most 10m", opts.duration)
	}
	if opts.versions < 1 || opts.configs < 0 {
		return fmt.Errorf("invalid -versions %d or -configs %d: use at least one version change", opts.versions, opts.configs)
	}
	if opts.tier != config.TierTrusted && opts.tier != config.TierSandboxed {
		return fmt.Errorf("invalid -tier %q: use %q or %q", opts.tier, config.TierTrusted, config.TierSandboxed)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	dataDir, err := os.MkdirTemp("", "portcullis-hotswap-")
	if err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	defer os.RemoveAll(dataDir)

	var envOptions benchenv.Options
	if opts.tier == config.TierSandboxed {
		executable, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the hotswap executable for plugin workers: %w", err)
		}
		envOptions.WorkerCommand = []string{executable, "worker"}
	}
	env, err := benchenv.StartWith(ctx, dataDir, envOptions)
	if err != nil {
		return err
	}
	defer env.Close()

	return measure(ctx, env, opts)
}

// measure sets up the tenant, runs both phases and reports them.
func measure(ctx context.Context, env *benchenv.Env, opts options) error {
	// The checked plugin's hooks run in Risor's VM, so a swap replaces
	// VMs that calls in flight still use, which static hooks would not.
	fmt.Printf("publishing %d versions of the checked plugin\n", opts.versions+1)
	for version := range opts.versions + 1 {
		if err := env.PublishChecked(ctx, 0, versionName(version)); err != nil {
			return fmt.Errorf("publish version %q: %w", versionName(version), err)
		}
	}
	ids, err := env.AddTenantPlugins(ctx, "swap", []string{benchenv.CheckedName(0)}, opts.tier)
	if err != nil {
		return err
	}

	load := loadgen.Options{
		URL:         env.TenantURL(opts.protocol, "swap", "/"),
		Protocol:    opts.protocol,
		Concurrency: opts.concurrency,
		Duration:    opts.duration,
		RootCAs:     env.RootCAs,
		Check:       checkLightHeader,
	}
	fmt.Printf("phase 1: %v of load on %s (%s tier) without swaps\n", opts.duration, load.URL, opts.tier)
	quiet, err := loadgen.Run(ctx, load)
	if err != nil {
		return err
	}
	fmt.Println("  ", quiet)

	fmt.Printf("phase 2: %v of load with %d version and %d config changes\n", opts.duration, opts.versions, opts.configs)
	swapped, swaps, err := runWithSwaps(ctx, env, load, ids[0], opts)
	if err != nil {
		return err
	}
	fmt.Println("  ", swapped)

	return report(ctx, env, load, quiet, swapped, swaps, opts)
}

// versionName returns the code version of swap step n.
func versionName(n int) string {
	return fmt.Sprintf("1.0.%d", n)
}

// configTag returns the config tag of swap step n.
func configTag(n int) string {
	return fmt.Sprintf("t%d", n)
}
