package sandbox

import (
	"context"
	"strings"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// tagSource is a static rewrite hook: it sets a header named by the
// config to the binding's mark.
const tagSource = `func rewrite(ctx, conf) {
	ctx.req.set_header(conf["name"], "tag-" + conf["mark"])
}
`

// staticBinding returns a binding of tagSource that sets header name.
func staticBinding(id, name string) worker.Binding {
	return worker.Binding{ID: id, Plugin: "tag", Version: "1.0.0", Source: tagSource, Config: []byte(`{"name": "` + name + `", "mark": "` + id + `"}`)}
}

// loadChain loads bindings for tenant acme and returns their chain.
func loadChain(t *testing.T, pool *Pool, bindings ...worker.Binding) *chain.Chain {
	t.Helper()
	set, err := pool.Load("acme", bindings)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	steps := make([]chain.Step, len(bindings))
	for i, b := range bindings {
		steps[i] = chain.Step{Binding: b.ID, Plugin: b.Plugin, Version: b.Version, Remote: set.Step(i)}
	}
	return chain.New(steps)
}

func TestSetRunsStaticHooksWithoutWorker(t *testing.T) {
	pool, _ := newPool(t, Config{})
	c := loadChain(t, pool, staticBinding("a", "X-A"), staticBinding("b", "X-B"))
	// Every call that needs a worker fails once the pool is closed.
	pool.Close()

	ex := exchange()
	if err := c.Run(context.Background(), pluginhost.PhaseRewrite, ex); err != nil {
		t.Fatalf("Run(rewrite) = %v, want the static hooks to run in the edge", err)
	}
	if got := ex.Request.Header.Get("X-A"); got != "tag-a" {
		t.Errorf("X-A = %q, want %q", got, "tag-a")
	}
	if got := ex.Request.Header.Get("X-B"); got != "tag-b" {
		t.Errorf("X-B = %q, want %q", got, "tag-b")
	}
}

func TestSetMixedStepsRunInWorker(t *testing.T) {
	pool, _ := newPool(t, Config{})
	markRewrite := strings.Replace(markSource, "func access", "func rewrite", 1)
	c := loadChain(t, pool, staticBinding("a", "X-A"), testBinding("m", markRewrite))

	ex := exchange()
	if err := c.Run(context.Background(), pluginhost.PhaseRewrite, ex); err != nil {
		t.Fatalf("Run(rewrite) = %v, want both steps run in the worker", err)
	}
	if got := ex.Request.Header.Get("X-A"); got != "tag-a" {
		t.Errorf("X-A = %q, want %q", got, "tag-a")
	}
	if got := ex.Request.Header.Get("X-Order"); got != "m" {
		t.Errorf("X-Order = %q, want %q", got, "m")
	}

	pool.Close()
	err := c.Run(context.Background(), pluginhost.PhaseRewrite, exchange())
	if err == nil {
		t.Fatal("Run(rewrite) succeeded with the pool closed, want the step that runs in the VM to need the worker")
	}
}

func TestSetStaticFailureRunsInWorker(t *testing.T) {
	pool, _ := newPool(t, Config{})
	c := loadChain(t, pool, staticBinding("a", "X-A"), staticBinding("b", "bad name"))

	ex := exchange()
	err := c.Run(context.Background(), pluginhost.PhaseRewrite, ex)
	if err == nil || !strings.Contains(err.Error(), `invalid header name "bad name"`) {
		t.Fatalf("Run(rewrite) = %v, want the worker's error for the invalid header name", err)
	}
	if got := ex.Request.Header.Get("X-A"); got != "tag-a" {
		t.Errorf("X-A = %q, want the first step's change kept", got)
	}
}

func TestCheckStaticDropsMalformedHooks(t *testing.T) {
	changes := make([][]pluginhost.HeaderChange, len(pluginhost.Phases))
	cases := []struct {
		name  string
		hooks worker.StaticHooks
		want  uint8
	}{
		{"well formed", worker.StaticHooks{Mask: 1, Changes: changes}, 1},
		{"mask without changes", worker.StaticHooks{Mask: 1}, 0},
		{"too few changes", worker.StaticHooks{Mask: 1, Changes: changes[:1]}, 0},
		{"mask past the phases", worker.StaticHooks{Mask: 1 << len(pluginhost.Phases), Changes: changes}, 0},
	}
	for _, tc := range cases {
		if got := checkStatic(tc.hooks).Mask; got != tc.want {
			t.Errorf("%s: mask = %08b, want %08b", tc.name, got, tc.want)
		}
	}
}
