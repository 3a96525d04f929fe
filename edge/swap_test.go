package edge

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// waitForRevision polls until the edge has the tenant loaded at revision,
// for at most one second.
func waitForRevision(t *testing.T, e *Edge, tenant string, revision int64) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		rt, ok := e.store.Loaded(tenant)
		if ok && rt.Revision == revision {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant %q not at revision %d within 1s", tenant, revision)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// servedBy sends one request and returns the X-Served-By header, failing
// the test on any other outcome than 200.
func servedBy(t *testing.T, te *testEdge) string {
	t.Helper()
	got := te.do(t, "h1", "GET", "acme.localhost", "/")
	if got.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", got.StatusCode, got.body)
	}
	return got.Header.Get("X-Served-By")
}

func TestInvalidateTakesEffect(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(helloBundle(t, 1, upstream.URL, "1"))
	te := startEdge(t, source, nil)
	if got := servedBy(t, te); got != "hello-1" {
		t.Fatalf("X-Served-By = %q, want hello-1", got)
	}

	source.put(helloBundle(t, 2, upstream.URL, "2"))
	start := time.Now()
	te.Invalidate("acme", 2)
	for servedBy(t, te) != "hello-2" {
		if time.Since(start) > time.Second {
			t.Fatal("revision 2 not served within 1s of Invalidate")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHotSwapUnderLoad(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(helloBundle(t, 1, upstream.URL, "1"))
	te := startEdge(t, source, nil)

	const (
		workers     = 8
		duration    = 2 * time.Second
		maxRequests = 5000
	)
	protocols := []string{"h1", "h2c", "h2", "h3"}
	stop := time.Now().Add(duration)

	var (
		requests atomic.Int64
		mu       sync.Mutex
		failures []string
		versions = map[string]int{}
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}

	var wg sync.WaitGroup
	for worker := range workers {
		protocol := protocols[worker%len(protocols)]
		client, base := te.client(t, protocol)
		wg.Go(func() {
			for i := 0; i < maxRequests && time.Now().Before(stop); i++ {
				requests.Add(1)
				servedBy, greeting, err := swapRequest(client, base)
				if err != nil {
					fail("%s request %d: %v", protocol, i, err)
					continue
				}
				// Request and response side must come from one runtime.
				if greeting != "hi-"+servedBy[len("hello-"):] {
					fail("%s request %d: greeting %q with X-Served-By %q", protocol, i, greeting, servedBy)
				}
				mu.Lock()
				versions[servedBy]++
				mu.Unlock()
			}
		})
	}

	// Flip between the two plugin versions with ever newer revisions.
	flips := 0
	for revision := int64(2); time.Now().Before(stop); revision++ {
		major := []string{"1", "2"}[revision%2]
		source.put(helloBundle(t, revision, upstream.URL, major))
		te.Invalidate("acme", revision)
		flips++
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()

	for _, failure := range failures {
		t.Error(failure)
	}
	if versions["hello-1"] == 0 || versions["hello-2"] == 0 {
		t.Errorf("versions seen = %v, want both hello-1 and hello-2", versions)
	}
	if compiles := te.compiler.Compiles(); compiles != 2 {
		t.Errorf("compiles = %d, want 2 for two plugin versions over %d revisions", compiles, flips+1)
	}
	t.Logf("%d requests, %d flips, versions %v", requests.Load(), flips, versions)
}

// swapRequest sends one request for acme and returns the response's
// X-Served-By and the X-Hello that the upstream saw.
func swapRequest(client *http.Client, base string) (servedBy, greeting string, err error) {
	req, err := http.NewRequest("GET", base+"/", nil)
	if err != nil {
		return "", "", err
	}
	req.Host = "acme.localhost"

	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("status %d, body %q", resp.StatusCode, body)
	}

	var seen upstreamSeen
	if err := json.Unmarshal(body, &seen); err != nil {
		return "", "", fmt.Errorf("decode body %q: %w", body, err)
	}
	servedBy = resp.Header.Get("X-Served-By")
	if servedBy != "hello-1" && servedBy != "hello-2" {
		return "", "", fmt.Errorf("X-Served-By = %q, want hello-1 or hello-2", servedBy)
	}
	return servedBy, seen.Header.Get("X-Hello"), nil
}

func TestCompileFailureKeepsOldRuntime(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(helloBundle(t, 1, upstream.URL, "1"))
	te := startEdge(t, source, nil)
	if got := servedBy(t, te); got != "hello-1" {
		t.Fatalf("X-Served-By = %q, want hello-1", got)
	}

	broken := `func rewrite(ctx, conf) { ctx.req.set_header("X-Hello" }`
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	bindings := []config.Binding{{ID: "b-hello", Plugin: "hello", Version: "3.0.0"}}
	source.put(tenantBundle(t, "acme", 2, upstream.URL, routes, bindings, plugin("hello", "3.0.0", broken)))
	te.Invalidate("acme", 2)

	// Wait for the refresh to log its failure, then check the old runtime
	// still serves.
	deadline := time.Now().Add(time.Second)
	var records []map[string]any
	for len(records) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		records = te.logs.records(t, "new bundle rejected; serving the current revision")
	}
	if len(records) != 1 {
		t.Fatalf("compile failure log records = %d, want 1", len(records))
	}
	fields := []struct {
		name string
		want any
	}{
		{name: "level", want: "ERROR"},
		{name: "tenant", want: "acme"},
		{name: "revision", want: float64(1)},
		{name: "failed_revision", want: float64(2)},
	}
	for _, field := range fields {
		if got := records[0][field.name]; got != field.want {
			t.Errorf("log field %s = %v, want %v", field.name, got, field.want)
		}
	}
	if got := servedBy(t, te); got != "hello-1" {
		t.Errorf("after failed revision 2: X-Served-By = %q, want hello-1", got)
	}

	source.put(helloBundle(t, 3, upstream.URL, "2"))
	te.Invalidate("acme", 3)
	waitForRevision(t, te.Edge, "acme", 3)
	if got := servedBy(t, te); got != "hello-2" {
		t.Errorf("after revision 3: X-Served-By = %q, want hello-2", got)
	}
}
