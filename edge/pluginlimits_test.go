package edge

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

const (
	// setHeaderSource sets the response header that the request names in
	// X-Set-Name to X-Set-Value, and does nothing without X-Set-Name.
	setHeaderSource = `func header_filter(ctx, conf) {
	name := ctx.req.header("X-Set-Name")
	if name != "" {
		ctx.resp.set_header(name, ctx.req.header("X-Set-Value"))
	}
}
`
	// bigValueSource builds an 8 MiB string, the size of a worker frame,
	// and puts it where conf["use"] names: the exit body, a request
	// header or ctx.vars.
	bigValueSource = `func access(ctx, conf) {
	s := "x"
	for i := 0; i < 23; i++ { s = s + s }
	use := conf["use"]
	if use == "exit" { ctx.exit(200, s) }
	if use == "header" { ctx.req.set_header("X-Big", s) }
	if use == "vars" { ctx.vars["big"] = s }
}
`
	// limitsBody is the upstream's body, sent with Content-Length: 20.
	limitsBody = "0123456789abcdefghij"
)

// limitsTiers are the binding tiers that each case runs in.
var limitsTiers = []string{config.TierTrusted, config.TierSandboxed}

// pluginLimitsEdge starts an edge with plugin workers whose tenant acme
// binds setHeaderSource on /{closed,open}-{tier} with that failure policy,
// and bigValueSource on /big-{use}-{tier}.
func pluginLimitsEdge(t *testing.T) *testEdge {
	t.Helper()
	upstream := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(limitsBody)))
		_, _ = io.WriteString(w, limitsBody)
	}))

	var routes []config.Route
	var bindings []config.Binding
	add := func(route, plugin, onError, tier, conf string) {
		routes = append(routes, config.Route{Name: route, Paths: []string{"/" + route}, Upstream: "api"})
		bindings = append(bindings, config.Binding{
			ID: "b-" + route, Plugin: plugin, Version: "1.0.0", Route: route, Config: json.RawMessage(conf),
			TimeoutMS: 1000, OnError: onError, Tier: tier,
		})
	}
	for _, tier := range limitsTiers {
		add("closed-"+tier, "set-header", config.OnErrorClosed, tier, `{}`)
		add("open-"+tier, "set-header", config.OnErrorOpen, tier, `{}`)
		for _, use := range []string{"exit", "header", "vars"} {
			add("big-"+use+"-"+tier, "big-value", config.OnErrorClosed, tier, `{"use":"`+use+`"}`)
		}
	}

	b := tenantBundle(t, "acme", 1, upstream, routes, bindings,
		plugin("set-header", "1.0.0", setHeaderSource),
		plugin("big-value", "1.0.0", bigValueSource),
	)
	return startEdge(t, newMemorySource(b), withWorkers(t))
}

// doWithHeaders sends a GET for acme.localhost with header over protocol
// and reads the whole response.
func (te *testEdge) doWithHeaders(t *testing.T, protocol, path string, header http.Header) response {
	t.Helper()
	client, base := te.client(t, protocol)
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	req.Header = header

	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s over %s with %v: %v", path, protocol, header, err)
	}
	defer resp.Body.Close()
	return response{Response: resp, body: readAll(t, resp)}
}

// hookErrors returns the errors that the edge logged for failed hooks of
// binding.
func hookErrors(t *testing.T, te *testEdge, binding string) []string {
	t.Helper()
	var errs []string
	for _, record := range te.logs.records(t, "plugin hook failed") {
		if record["binding"] == binding {
			errs = append(errs, record["error"].(string))
		}
	}
	return errs
}

func TestEdgeManagedResponseHeaders(t *testing.T) {
	te := pluginLimitsEdge(t)
	fields := []struct{ name, value string }{
		{"Content-Length", "5"},
		{"Content-Length", "100"},
		{"Transfer-Encoding", "chunked"},
		{"Connection", "close"},
		{"Upgrade", "websocket"},
		{"Keep-Alive", "timeout=5"},
		{"Date", "Mon, 02 Jan 2006 15:04:05 GMT"},
	}

	for _, tier := range limitsTiers {
		for _, protocol := range []string{"h1", "h2"} {
			for _, field := range fields {
				set := http.Header{"X-Set-Name": {field.name}, "X-Set-Value": {field.value}}

				t.Run(tier+" "+protocol+" closed "+field.name+" "+field.value, func(t *testing.T) {
					got := te.doWithHeaders(t, protocol, "/closed-"+tier, set)
					checkProblem(t, got, http.StatusInternalServerError)
				})
				t.Run(tier+" "+protocol+" open "+field.name+" "+field.value, func(t *testing.T) {
					got := te.doWithHeaders(t, protocol, "/open-"+tier, set)
					if got.StatusCode != http.StatusOK || string(got.body) != limitsBody {
						t.Fatalf("response = %d %q, want 200 with the whole upstream body", got.StatusCode, got.body)
					}
					if value := got.Header.Get(field.name); value == field.value {
						t.Errorf("%s = %q, want the edge's value, not the hook's", field.name, value)
					}
				})

				// A success of the hook ends the run of failures, so no
				// quarantine skips the hook in the next cases.
				for _, route := range []string{"/closed-" + tier, "/open-" + tier} {
					got := te.doWithHeaders(t, protocol, route, http.Header{})
					if got.StatusCode != http.StatusOK || string(got.body) != limitsBody {
						t.Fatalf("%s without X-Set-Name: response = %d %q, want 200 with the whole body", route, got.StatusCode, got.body)
					}
				}
			}
		}

		if got := te.sandbox.Workers(); tier == config.TierSandboxed && got != 1 {
			t.Errorf("workers after the sandboxed cases = %d, want 1", got)
		}
		for _, binding := range []string{"b-closed-" + tier, "b-open-" + tier} {
			errs := hookErrors(t, te, binding)
			if len(errs) == 0 || !strings.Contains(errs[0], "is managed by the edge") {
				t.Errorf("%s hook errors = %q, want the edge-managed header named", binding, errs)
			}
		}
	}
}

func TestPluginValuesAboveFrameLimit(t *testing.T) {
	te := pluginLimitsEdge(t)
	wantErrors := map[string]string{
		"exit":   "ctx.exit: body of 8388608 bytes is above the limit of 1048576 bytes",
		"header": `ctx.req.set_header: header "X-Big" of 8388613 bytes is above the limit of 8192 bytes`,
		"vars":   "ctx.vars: the map is above the limit of 65536 bytes",
	}

	for _, tier := range limitsTiers {
		for use, wantErr := range wantErrors {
			t.Run(tier+" "+use, func(t *testing.T) {
				got := te.do(t, "h1", http.MethodGet, "acme.localhost", "/big-"+use+"-"+tier)
				checkProblem(t, got, http.StatusInternalServerError)

				errs := hookErrors(t, te, "b-big-"+use+"-"+tier)
				if len(errs) != 1 || !strings.Contains(errs[0], wantErr) {
					t.Errorf("hook errors = %q, want one containing %q", errs, wantErr)
				}
				if got := te.sandbox.Workers(); tier == config.TierSandboxed && got != 1 {
					t.Errorf("workers = %d, want the tenant's worker to serve on", got)
				}
			})
		}
	}
}
