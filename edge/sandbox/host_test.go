package sandbox

import (
	"context"
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

// bigLogSource logs a 128 KiB message with a 128 KiB field.
const bigLogSource = `func access(ctx, conf) {
	text := "m"
	for i := 0; i < 17; i++ {
		text = text + text
	}
	ctx.log.info(text, {"blob": text})
}
`

func TestHostLogBoundedInBothTiers(t *testing.T) {
	plugin, err := pluginhost.Compile("logger", "1.0.0", bigLogSource)
	if err != nil {
		t.Fatal(err)
	}
	instance, err := plugin.BindWith([]byte(`{}`), pluginhost.BindOptions{Tenant: "acme", Binding: "b-log"})
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{{ID: "b-log", Plugin: "logger", Version: "1.0.0", Source: bigLogSource, Config: []byte(`{}`)}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	steps := map[string]chain.Step{
		"in-process": {Binding: "b-log", Plugin: "logger", Version: "1.0.0", Instance: instance},
		"sandboxed":  {Binding: "b-log", Plugin: "logger", Version: "1.0.0", Remote: set.Step(0)},
	}
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			logs := &syncBuffer{}
			ex := exchange()
			ex.Host = hostsvc.New(slog.New(slog.NewTextHandler(logs, nil)), nil).Tenant("acme").Request(nil)
			if err := chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
				t.Fatalf("Run: %v", err)
			}

			line := logs.String()
			if got := strings.Count(line, "[truncated from 131072 bytes]"); got != 1 {
				t.Errorf("log has %d message markers, want 1", got)
			}
			if got := strings.Count(line, "[truncated from 131074 bytes]"); got != 1 {
				t.Errorf("log has %d field markers for the 131074 bytes of JSON, want 1", got)
			}
			if limit := hostsvc.MaxLogMessage + hostsvc.MaxLogFields + 1024; len(line) > limit {
				t.Errorf("log line is %d bytes, want at most %d", len(line), limit)
			}
		})
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
