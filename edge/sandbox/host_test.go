package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// hostSource uses every kind of host call: KV, a counter, a local rate
// limit, the request body, an outbound request and a log line.
const hostSource = `func access(ctx, conf) {
	ctx.kv.set("greeting", {"text": "hi", "n": 2})
	count := ctx.kv.incr("hits", 1)
	limit := ctx.limit.local("k", 10, 60)
	body := ctx.req.body()
	resp := ctx.http.get(conf["url"])
	ctx.log.info("hooked", {"count": count})
	ctx.req.set_header("X-Result", sprintf("%v|%d|%v|%s|%d|%s", ctx.kv.get("greeting")["text"], count, limit.allowed, body, resp.status, resp.body))
}
`

// allowLoopback lets plugins reach 127.0.0.1, where the tests' upstreams
// listen and which the edge blocks by default.
var allowLoopback = hostsvc.WithOutboundAllow([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})

// runHostPlugin runs hostSource once as step, with a host from services,
// and returns X-Result.
func runHostPlugin(t *testing.T, step chain.Step, services *hostsvc.Services) string {
	t.Helper()
	ex := exchange()
	ex.Host = services.Tenant("acme").Request(func(limit int) ([]byte, error) { return []byte("payload"), nil })
	if err := chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return ex.Request.Header.Get("X-Result")
}

func TestHostAPISameInBothTiers(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("pong"))
	}))
	t.Cleanup(upstream.Close)
	config := []byte(`{"url":"` + upstream.URL + `/ping"}`)
	allow := []string{strings.TrimPrefix(upstream.URL, "http://")}

	plugin, err := pluginhost.Compile("hosty", "1.0.0", hostSource)
	if err != nil {
		t.Fatal(err)
	}
	instance, err := plugin.BindWith(config, pluginhost.BindOptions{Tenant: "acme", Binding: "b-hosty", AllowHosts: allow})
	if err != nil {
		t.Fatal(err)
	}
	inProcess := runHostPlugin(t, chain.Step{Binding: "b-hosty", Plugin: "hosty", Version: "1.0.0", Instance: instance}, hostsvc.New(nil, nil, allowLoopback))

	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{{ID: "b-hosty", Plugin: "hosty", Version: "1.0.0", Source: hostSource, Config: config, AllowHosts: allow}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	logs := &syncBuffer{}
	services := hostsvc.New(slog.New(slog.NewTextHandler(logs, nil)), nil, allowLoopback)
	sandboxed := runHostPlugin(t, chain.Step{Binding: "b-hosty", Plugin: "hosty", Version: "1.0.0", Remote: set.Step(0)}, services)

	want := "hi|1|true|payload|200|pong"
	if inProcess != want {
		t.Errorf("in-process X-Result = %q, want %q", inProcess, want)
	}
	if sandboxed != want {
		t.Errorf("sandboxed X-Result = %q, want %q", sandboxed, want)
	}
	if !strings.Contains(logs.String(), "hooked") || !strings.Contains(logs.String(), "b-hosty") {
		t.Errorf("plugin log line missing or without its binding:\n%s", logs.String())
	}
}

func TestHostFetchKeepsBindingPermissions(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("pong"))
	}))
	t.Cleanup(upstream.Close)
	config := []byte(`{"url":"` + upstream.URL + `/ping"}`)

	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{{ID: "b-hosty", Plugin: "hosty", Version: "1.0.0", Source: hostSource, Config: config}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ex := exchange()
	ex.Host = hostsvc.New(nil, nil).Tenant("acme").Request(nil)
	err = chain.New([]chain.Step{{Binding: "b-hosty", Plugin: "hosty", Version: "1.0.0", Remote: set.Step(0)}}).Run(context.Background(), pluginhost.PhaseAccess, ex)
	if err == nil || !strings.Contains(err.Error(), "is not in the binding's allow_hosts") {
		t.Errorf("Run error = %v, want the fetch to a host outside allow_hosts rejected", err)
	}
}

func TestHostFetchBlocksLoopbackInWorker(t *testing.T) {
	var hits atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	t.Cleanup(upstream.Close)
	config := []byte(`{"url":"` + upstream.URL + `/ping"}`)
	allow := []string{strings.TrimPrefix(upstream.URL, "http://")}

	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{{ID: "b-hosty", Plugin: "hosty", Version: "1.0.0", Source: hostSource, Config: config, AllowHosts: allow}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ex := exchange()
	ex.Host = hostsvc.New(nil, nil).Tenant("acme").Request(nil)
	err = chain.New([]chain.Step{{Binding: "b-hosty", Plugin: "hosty", Version: "1.0.0", Remote: set.Step(0)}}).Run(context.Background(), pluginhost.PhaseAccess, ex)

	if err == nil {
		t.Fatal("Run error = nil, want the loopback destination rejected")
	}
	for _, want := range []string{"loopback", "--plugin-outbound-allow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Run error = %q, want it to name %q", err, want)
		}
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("upstream received %d requests, want none", got)
	}
}

// logSource returns a plugin that logs a message of 2^doublings bytes
// with a field of the same text.
func logSource(doublings int) string {
	return fmt.Sprintf(`func access(ctx, conf) {
	text := "m"
	for i := 0; i < %d; i++ {
		text = text + text
	}
	ctx.log.info(text, {"blob": text})
}
`, doublings)
}

// logInBothTiers runs source's access hook in the edge process and in a
// plugin worker, and returns the edge's log of each run by tier.
func logInBothTiers(t *testing.T, source string) map[string]string {
	t.Helper()
	plugin, err := pluginhost.Compile("logger", "1.0.0", source)
	if err != nil {
		t.Fatal(err)
	}
	instance, err := plugin.BindWith([]byte(`{}`), pluginhost.BindOptions{Tenant: "acme", Binding: "b-log"})
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{{ID: "b-log", Plugin: "logger", Version: "1.0.0", Source: source, Config: []byte(`{}`)}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	steps := map[string]chain.Step{
		"in-process": {Binding: "b-log", Plugin: "logger", Version: "1.0.0", Instance: instance},
		"sandboxed":  {Binding: "b-log", Plugin: "logger", Version: "1.0.0", Remote: set.Step(0)},
	}
	logs := map[string]string{}
	for tier, step := range steps {
		buffer := &syncBuffer{}
		ex := exchange()
		ex.Host = hostsvc.New(slog.New(slog.NewTextHandler(buffer, nil)), nil).Tenant("acme").Request(nil)
		if err := chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
			t.Fatalf("%s: Run: %v", tier, err)
		}
		logs[tier] = buffer.String()
	}
	return logs
}

func TestHostLogBoundedInBothTiers(t *testing.T) {
	for tier, line := range logInBothTiers(t, logSource(17)) {
		if got := strings.Count(line, "[truncated from 131072 bytes]"); got != 1 {
			t.Errorf("%s: log has %d message markers, want 1", tier, got)
		}
		if got := strings.Count(line, "[truncated from 131074 bytes]"); got != 1 {
			t.Errorf("%s: log has %d field markers for the 131074 bytes of JSON, want 1", tier, got)
		}
		if limit := hostsvc.MaxLogMessage + hostsvc.MaxLogFields + 1024; len(line) > limit {
			t.Errorf("%s: log line is %d bytes, want at most %d", tier, len(line), limit)
		}
	}
}

// A line above the 8 MiB frame between worker and edge reaches the edge's
// log cut, instead of being lost with its frame. The worker cuts the
// message and the field to 1 MiB first, which the marker then gives as
// the original size.
func TestHostLogAboveFrameInBothTiers(t *testing.T) {
	logs := logInBothTiers(t, logSource(24))
	wantMarkers := map[string][2]string{
		"in-process": {"[truncated from 16777216 bytes]", "[truncated from 16777218 bytes]"},
		"sandboxed":  {"[truncated from 1048576 bytes]", "[truncated from 1048574 bytes]"},
	}
	for tier, markers := range wantMarkers {
		line := logs[tier]
		if !strings.Contains(line, "msg=\"plugin: mmm") {
			t.Errorf("%s: log = %.200q, want the plugin's line", tier, line)
		}
		for _, marker := range markers {
			if got := strings.Count(line, marker); got != 1 {
				t.Errorf("%s: log has %d markers %q, want 1", tier, got, marker)
			}
		}
	}
}

// panickingHost is a host whose KVSet panics, as a bug in a host service
// would.
type panickingHost struct {
	pluginhost.Host
}

func (panickingHost) KVSet(string, any, time.Duration) error {
	panic("broken store")
}

func TestHostCallPanicFailsOnlyTheHook(t *testing.T) {
	const source = `func access(ctx, conf) {
	ctx.kv.set("anything", 1)
}
`
	pool, logs := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{{ID: "b-kv", Plugin: "kv", Version: "1.0.0", Source: source, Config: []byte(`{}`)}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	ex := exchange()
	ex.Host = panickingHost{Host: hostsvc.New(nil, nil).Tenant("acme").Request(nil)}
	err = chain.New([]chain.Step{{Binding: "b-kv", Plugin: "kv", Version: "1.0.0", Remote: set.Step(0)}}).Run(context.Background(), pluginhost.PhaseAccess, ex)
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("Run error = %v, want the hook to fail with an internal error", err)
	}
	if !strings.Contains(logs.String(), "host call panicked") || !strings.Contains(logs.String(), "tenant=acme") {
		t.Errorf("log lacks the panic with its tenant:\n%s", logs.String())
	}
}
