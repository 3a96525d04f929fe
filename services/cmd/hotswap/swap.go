package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"portcullis.dev/services/internal/benchenv"
	"portcullis.dev/services/internal/loadgen"
)

// finalDeadline is how long after the last change the edge may take to
// serve the final version and config.
const finalDeadline = 5 * time.Second

// swapResult counts the changes the portal accepted in the swap phase.
type swapResult struct {
	versions, configs int
	// version and tag are the last ones written.
	version, tag string
}

// checkLightHeader fails a response that checked plugin 0 did not mark.
func checkLightHeader(response *http.Response) error {
	value := response.Header.Get(benchenv.ResponseHeader(0))
	if !strings.HasPrefix(value, "1.0.") {
		return fmt.Errorf("response header %s = %q, want the plugin's version and tag", benchenv.ResponseHeader(0), value)
	}
	return nil
}

// runWithSwaps drives load while it alternates version and config changes
// of binding, spread evenly over the phase.
func runWithSwaps(ctx context.Context, env *benchenv.Env, load loadgen.Options, binding string, opts options) (loadgen.Result, swapResult, error) {
	var result loadgen.Result
	var loadErr error
	var wg sync.WaitGroup
	wg.Go(func() { result, loadErr = loadgen.Run(ctx, load) })

	swaps, swapErr := swap(ctx, env, binding, opts)
	wg.Wait()
	return result, swaps, errors.Join(loadErr, swapErr)
}

// swap sends the changes, leaving the last tenth of the phase without
// changes so that the final state is served under load too.
func swap(ctx context.Context, env *benchenv.Env, binding string, opts options) (swapResult, error) {
	total := opts.versions + opts.configs
	interval := opts.duration * 9 / 10 / time.Duration(total)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	path := "/api/v1/tenants/swap/bindings/" + binding
	done := swapResult{version: versionName(0), tag: configTag(0)}
	for step := range total {
		body := map[string]any{}
		if isVersionStep(step, opts) && done.versions < opts.versions {
			done.version = versionName(done.versions + 1)
			body["version"] = done.version
			done.versions++
		} else {
			done.tag = configTag(done.configs + 1)
			body["config"] = map[string]any{"tag": done.tag}
			done.configs++
		}
		if err := env.API.Do(ctx, http.MethodPatch, path, body, nil); err != nil {
			return done, fmt.Errorf("change %d of binding %q: %w", step+1, binding, err)
		}

		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case <-ticker.C:
		}
	}
	return done, nil
}

// isVersionStep spreads version changes evenly among config changes.
func isVersionStep(step int, opts options) bool {
	if opts.configs == 0 {
		return true
	}
	total := opts.versions + opts.configs
	return step*opts.versions/total != (step+1)*opts.versions/total
}

// report prints the summary and returns an error when a request failed or
// the edge does not serve the final version and config.
func report(ctx context.Context, env *benchenv.Env, load loadgen.Options, quiet, swapped loadgen.Result, swaps swapResult, opts options) error {
	want := swaps.version + "/" + swaps.tag
	served, finalErr := waitForFinal(ctx, load, want)

	ratio := 0.0
	if quiet.Throughput() > 0 {
		ratio = swapped.Throughput() / quiet.Throughput()
	}
	fmt.Printf("requests: %d (without swaps) + %d (with swaps)\n", quiet.Requests, swapped.Requests)
	fmt.Printf("errors: %d + %d\n", quiet.Errors, swapped.Errors)
	for _, message := range append(quiet.ErrorSamples, swapped.ErrorSamples...) {
		fmt.Println("  error:", message)
	}
	fmt.Printf("swaps applied: %d version changes, %d config changes; final %q served: %v\n",
		swaps.versions, swaps.configs, want, finalErr == nil)
	fmt.Printf("throughput with swaps / without: %.3f (%.0f/s vs %.0f/s)\n", ratio, swapped.Throughput(), quiet.Throughput())
	fmt.Printf("p99 with swaps / without: %v vs %v\n", swapped.P99, quiet.P99)

	if finalErr != nil {
		return fmt.Errorf("final state not served, last seen %q: %w", served, finalErr)
	}
	if quiet.Errors+swapped.Errors > 0 {
		return fmt.Errorf("%d requests failed", quiet.Errors+swapped.Errors)
	}
	if swaps.versions != opts.versions || swaps.configs != opts.configs {
		return fmt.Errorf("applied %d version and %d config changes, want %d and %d", swaps.versions, swaps.configs, opts.versions, opts.configs)
	}
	return nil
}

// waitForFinal polls the edge until checked plugin 0 reports want, and
// returns the last value seen.
func waitForFinal(ctx context.Context, load loadgen.Options, want string) (string, error) {
	var seen string
	check := func(response *http.Response) error {
		seen = response.Header.Get(benchenv.ResponseHeader(0))
		if seen != want {
			return fmt.Errorf("served %q, want %q", seen, want)
		}
		return nil
	}

	deadline := time.Now().Add(finalDeadline)
	for time.Now().Before(deadline) {
		probe := load
		probe.Concurrency, probe.MaxRequests, probe.Duration, probe.Check = 1, 1, time.Second, check
		result, err := loadgen.Run(ctx, probe)
		if err != nil {
			return seen, err
		}
		if result.Requests == 1 && result.Errors == 0 {
			return seen, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return seen, fmt.Errorf("not served within %v of the last change", finalDeadline)
}
