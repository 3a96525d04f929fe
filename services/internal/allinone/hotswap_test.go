package allinone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/services/demo"
)

// Hot-swap load shape: the edge must serve every request while a binding
// flips between two published versions.
const (
	swapClients  = 8
	swapDuration = 5 * time.Second
	swapInterval = 100 * time.Millisecond
	// swapDeadline is how soon a change must be served after the API call
	// that made it returned.
	swapDeadline = time.Second
)

func TestHotSwapUnderLoad(t *testing.T) {
	h := startHarness(t)
	h.addTenant("acme", upstream(t, "acme"), "/")
	h.publish("stamp", "1.0.0")
	h.publish("stamp", "2.0.0")
	bindingPath := "/api/v1/tenants/acme/bindings/" + h.bind("acme", "stamp", "1.0.0", map[string]any{"greeting": "hi"})
	protocols := h.protocols()

	ctx, cancel := context.WithTimeout(context.Background(), swapDuration)
	defer cancel()

	var served sync.Map
	var total, failed atomic.Int64
	var failures sync.Map
	var wg sync.WaitGroup
	for client := range swapClients {
		pc := protocols[client%len(protocols)]
		wg.Go(func() {
			for ctx.Err() == nil {
				stamp, err := stampOf(ctx, pc)
				if ctx.Err() != nil {
					return
				}
				total.Add(1)
				if err != nil {
					failed.Add(1)
					failures.Store(err.Error(), pc.name)
					continue
				}
				served.Store(stamp, true)
			}
		})
	}

	flips := 0
	ticker := time.NewTicker(swapInterval)
	defer ticker.Stop()
	for ctx.Err() == nil {
		version := []string{"2.0.0", "1.0.0"}[flips%2]
		h.mustAPI(http.MethodPatch, bindingPath, map[string]any{"version": version}, nil)
		flips++
		select {
		case <-ctx.Done():
		case <-ticker.C:
		}
	}
	wg.Wait()

	failures.Range(func(message, protocol any) bool {
		t.Errorf("%s: %s", protocol, message)
		return true
	})
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during %d swaps", failed.Load(), total.Load(), flips)
	}
	for _, version := range []string{"1.0.0", "2.0.0"} {
		if _, ok := served.Load(version); !ok {
			t.Errorf("version %s never served in %d requests", version, total.Load())
		}
	}
	t.Logf("%d requests, %d failed, %d swaps", total.Load(), failed.Load(), flips)
}

func TestSwapTakesEffectWithinDeadline(t *testing.T) {
	h := startHarness(t)
	h.addTenant("acme", upstream(t, "acme"), "/")
	h.publish("stamp", "1.0.0")
	h.publish("stamp", "2.0.0")
	bindingPath := "/api/v1/tenants/acme/bindings/" + h.bind("acme", "stamp", "1.0.0", map[string]any{"greeting": "hi"})
	pc := h.protocols()[0]

	if stamp, err := stampOf(context.Background(), pc); err != nil || stamp != "1.0.0" {
		t.Fatalf("before the swap: got %q, %v; want 1.0.0", stamp, err)
	}

	h.mustAPI(http.MethodPatch, bindingPath, map[string]any{"version": "2.0.0"}, nil)
	waitFor(t, "version 2.0.0", func() (bool, error) {
		stamp, err := stampOf(context.Background(), pc)
		return stamp == "2.0.0", err
	})

	h.mustAPI(http.MethodPatch, bindingPath, map[string]any{"config": map[string]any{"greeting": "changed"}}, nil)
	waitFor(t, "greeting changed", func() (bool, error) {
		greeting, err := greetingOf(pc)
		return greeting == "changed", err
	})
}

// waitFor polls served until it reports true, and fails the test when that
// takes longer than swapDeadline.
func waitFor(t *testing.T, what string, served func() (bool, error)) {
	t.Helper()
	changed := time.Now()
	for {
		ok, err := served()
		if err != nil {
			t.Fatalf("request while waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Since(changed) > swapDeadline {
			t.Fatalf("%s not served %v after the change, want it within %v", what, time.Since(changed), swapDeadline)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// greetingOf returns the X-Greeting header that the upstream received.
func greetingOf(pc protocolCase) (string, error) {
	response, body, err := get(context.Background(), pc.client, pc.baseURL("acme.localhost")+"/greet", nil)
	if err != nil {
		return "", err
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", response.StatusCode, body)
	}
	var echo demo.Echo
	if err := json.Unmarshal(body, &echo); err != nil {
		return "", fmt.Errorf("decode upstream echo %q: %w", body, err)
	}
	return echo.Headers["X-Greeting"], nil
}

// stampOf sends one request and returns the plugin version that served it.
func stampOf(ctx context.Context, pc protocolCase) (string, error) {
	response, body, err := get(ctx, pc.client, pc.baseURL("acme.localhost")+"/swap", nil)
	if err != nil {
		return "", err
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", response.StatusCode, body)
	}
	stamp := response.Header.Get("X-Stamp")
	if stamp != "1.0.0" && stamp != "2.0.0" {
		return "", fmt.Errorf("X-Stamp %q is neither version", stamp)
	}
	return stamp, nil
}
