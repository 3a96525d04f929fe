package worker

import (
	"fmt"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// staticSource sets a response header from conf in header_filter, a static
// hook, and reads the request in access, which runs in the VM.
const staticSource = `func access(ctx, conf) {
	ctx.req.set_header("X-Path", ctx.req.path)
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Static", conf["value"])
}
`

// loadBindings loads bindings as set 1 into a new server and returns the
// reply.
func loadBindings(t *testing.T, bindings []Binding) *Loaded {
	t.Helper()
	edge, worker := pipe(t)
	go func() { _ = newServer(worker).serve() }()

	if err := edge.Send(&Frame{Kind: KindLoad, ID: 1, Load: &Load{Set: 1, Tenant: "acme", Bindings: bindings}}); err != nil {
		t.Fatal(err)
	}
	loaded := receiveWithin(t, edge).Loaded
	if loaded == nil || loaded.Err != "" {
		t.Fatalf("Loaded = %+v, want no error", loaded)
	}
	return loaded
}

func TestLoadReportsStaticHooks(t *testing.T) {
	loaded := loadBindings(t, []Binding{
		{ID: "a", Plugin: "static", Version: "1.0.0", Source: staticSource, Config: []byte(`{"value": "v1"}`)},
		{ID: "b", Plugin: "kv", Version: "1.0.0", Source: kvSource},
	})

	if len(loaded.Static) != 2 {
		t.Fatalf("Static has %d entries, want one per binding", len(loaded.Static))
	}
	headerFilter := 3
	if pluginhost.Phases[headerFilter] != pluginhost.PhaseHeaderFilter {
		t.Fatalf("Phases[%d] = %s, want header_filter", headerFilter, pluginhost.Phases[headerFilter])
	}
	if got := loaded.Static[0].Mask; got != 1<<headerFilter {
		t.Errorf("binding a: mask = %08b, want only header_filter", got)
	}
	want := []pluginhost.HeaderChange{{Response: true, Name: "X-Static", Value: "v1"}}
	if got := loaded.Static[0].Changes[headerFilter]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("binding a: header_filter changes = %+v, want %+v", got, want)
	}
	if got := loaded.Static[1].Mask; got != 0 {
		t.Errorf("binding b: mask = %08b, want no static hook", got)
	}
}

func TestLoadStaticHooksWithinBudget(t *testing.T) {
	// Each binding's hook sets six headers of about 7 KB: 42 KB, so the
	// second binding's would pass maxStaticBytes.
	body := strings.Repeat("\tctx.resp.set_header(\"X-Big\", conf[\"value\"])\n", 6)
	source := "func header_filter(ctx, conf) {\n" + body + "}\n"
	config := []byte(`{"value": "` + strings.Repeat("v", 7000) + `"}`)
	loaded := loadBindings(t, []Binding{
		{ID: "a", Plugin: "big", Version: "1.0.0", Source: source, Config: config},
		{ID: "b", Plugin: "big", Version: "1.0.0", Source: source, Config: config},
	})

	if len(loaded.Static) != 2 {
		t.Fatalf("Static has %d entries, want one per binding", len(loaded.Static))
	}
	if loaded.Static[0].Mask == 0 {
		t.Error("binding a: no static hook, want header_filter within the budget")
	}
	if loaded.Static[1].Mask != 0 {
		t.Errorf("binding b: mask = %08b, want none past %d bytes", loaded.Static[1].Mask, maxStaticBytes)
	}
}

func TestLoadWithoutStaticHooks(t *testing.T) {
	loaded := loadBindings(t, []Binding{{ID: "b", Plugin: "kv", Version: "1.0.0", Source: kvSource}})
	if loaded.Static != nil {
		t.Errorf("Static = %+v, want nil for a set without static hooks", loaded.Static)
	}
}
