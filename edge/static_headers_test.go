package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"portcullis.dev/tenants/config"
)

// staticViaSource is a static plugin whose hooks set Via and X-Static from
// conf. The header maps of concurrent requests share the value slices of
// its changes, and the edge appends its own Via to the same fields.
const staticViaSource = `func rewrite(ctx, conf) {
	ctx.req.set_header("Via", conf["via"])
	ctx.req.set_header("X-Static", conf["value"])
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("Via", conf["via"])
	ctx.resp.set_header("X-Static", conf["value"])
}
`

// Requests that share the values of static changes, on both tiers and on
// every protocol, must each see the plugin's values plus only their own
// edge Via, with no value of another request and no data race.
func TestStaticChangesConcurrentRequests(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	routes := []config.Route{
		{Name: "trusted", Paths: []string{"/trusted"}, Upstream: "api"},
		{Name: "sandboxed", Paths: []string{"/sandboxed"}, Upstream: "api"},
		{Name: "denied", Paths: []string{"/denied"}, Upstream: "api"},
	}
	conf := json.RawMessage(`{"via":"1.0 static","value":"v1"}`)
	bindings := []config.Binding{
		{ID: "b-trusted", Plugin: "static", Version: "1.0.0", Route: "trusted", Tier: config.TierTrusted, Config: conf},
		{ID: "b-sandboxed", Plugin: "static", Version: "1.0.0", Route: "sandboxed", Tier: config.TierSandboxed, Config: conf},
		{ID: "b-denied", Plugin: "static", Version: "1.0.0", Route: "denied", Tier: config.TierTrusted, Config: conf},
		{ID: "b-deny", Plugin: "deny", Version: "1.0.0", Route: "denied", Tier: config.TierTrusted},
	}
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, bindings,
		plugin("static", "1.0.0", staticViaSource),
		plugin("deny", "1.0.0", denySource),
	))
	te := startEdge(t, source, withWorkers(t))

	protocols := []string{"h1", "h2c", "h2", "h3"}
	paths := []string{"/trusted", "/sandboxed", "/denied"}
	const goroutines, requests = 4, 15

	var wg sync.WaitGroup
	for _, protocol := range protocols {
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range requests {
					path := paths[(g+i)%len(paths)]
					if err := checkStaticRequest(t, te, protocol, path); err != nil {
						t.Errorf("%s %s: %v", protocol, path, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
}

// checkStaticRequest sends one request and checks the headers that the
// upstream and the client saw.
func checkStaticRequest(t *testing.T, te *testEdge, protocol, path string) error {
	client, base := te.client(t, protocol)
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	req.Host = "acme.localhost"
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	var seen upstreamSeen
	if path == "/denied" {
		if resp.StatusCode != http.StatusForbidden {
			return fmt.Errorf("status = %d, want 403", resp.StatusCode)
		}
	} else {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status = %d, want 200", resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
			return fmt.Errorf("decode upstream report: %w", err)
		}
		wantVia := []string{"1.0 static", fmt.Sprintf("%d.%d portcullis", resp.ProtoMajor, resp.ProtoMinor)}
		if resp.ProtoMajor != 1 {
			wantVia[1] = fmt.Sprintf("%d portcullis", resp.ProtoMajor)
		}
		if got := seen.Header.Values("Via"); !slices.Equal(got, wantVia) {
			return fmt.Errorf("upstream Via = %q, want %q", got, wantVia)
		}
		if got := seen.Header.Values("X-Static"); !slices.Equal(got, []string{"v1"}) {
			return fmt.Errorf("upstream X-Static = %q, want [v1]", got)
		}
	}

	if got := resp.Header.Values("X-Static"); !slices.Equal(got, []string{"v1"}) {
		return fmt.Errorf("response X-Static = %q, want [v1]", got)
	}
	via := resp.Header.Values("Via")
	if len(via) == 0 || via[0] != "1.0 static" || len(via) > 2 {
		return fmt.Errorf("response Via = %q, want the plugin's value and at most the edge's", via)
	}
	return nil
}
