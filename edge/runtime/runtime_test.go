package runtime

import (
	"encoding/json"
	"strings"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

const markSource = `func rewrite(ctx, conf) { ctx.req.set_header("X-Mark", "1") }`

func pluginCode(name, version string) bundle.PluginCode {
	return bundle.PluginCode{Name: name, Version: version, Source: markSource, SHA256: bundle.SourceHash(markSource)}
}

// validBundle has two routes, a tenant-wide binding and one per route.
func validBundle() *bundle.Bundle {
	return &bundle.Bundle{
		Tenant:   "acme",
		Revision: 7,
		Upstreams: []config.Upstream{
			{Name: "api", Targets: []config.Target{{URL: "http://127.0.0.1:9001"}, {URL: "http://127.0.0.1:9002", Weight: 3}}},
			{Name: "web", Targets: []config.Target{{URL: "https://127.0.0.1:9003/base"}}},
		},
		Routes: []config.Route{
			{Name: "api", Paths: []string{"/api"}, Methods: []string{"GET"}, Upstream: "api"},
			{Name: "web", Paths: []string{"/"}, Upstream: "web"},
		},
		Bindings: []config.Binding{
			{ID: "b1", Plugin: "auth", Version: "1.0.0", Route: "api"},
			{ID: "b2", Plugin: "log", Version: "2.0.0"},
			{ID: "b3", Plugin: "auth", Version: "1.0.0", Route: "web", Config: json.RawMessage(`{"realm":"web"}`)},
		},
		Plugins: map[string]bundle.PluginCode{
			bundle.Key("auth", "1.0.0"): pluginCode("auth", "1.0.0"),
			bundle.Key("log", "2.0.0"):  pluginCode("log", "2.0.0"),
		},
	}
}

func TestBuild(t *testing.T) {
	b := validBundle()
	if err := b.Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	compiler := chain.NewCompiler(0)

	rt, err := Build(b, compiler)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}

	if rt.Tenant != "acme" || rt.Revision != 7 || rt.Hash != b.Hash {
		t.Errorf("runtime = %s@%d hash %q, want acme@7 hash %q", rt.Tenant, rt.Revision, rt.Hash, b.Hash)
	}
	if rt.Size <= 0 {
		t.Errorf("Size = %d, want the bundle's encoded size", rt.Size)
	}
	if got := compiler.Compiles(); got != 2 {
		t.Errorf("Compiles = %d, want 2 for two plugin versions", got)
	}

	tests := []struct {
		method       string
		path         string
		wantRoute    string
		wantUpstream string
		wantBindings string
	}{
		{method: "GET", path: "/api/x", wantRoute: "api", wantUpstream: "api", wantBindings: "b1,b2"},
		{method: "POST", path: "/api/x", wantRoute: "web", wantUpstream: "web", wantBindings: "b2,b3"},
		{method: "GET", path: "/", wantRoute: "web", wantUpstream: "web", wantBindings: "b2,b3"},
	}
	for _, tt := range tests {
		route, ok := rt.Match(tt.method, tt.path)
		if !ok {
			t.Errorf("Match(%s %s) found no route", tt.method, tt.path)
			continue
		}
		if route.Name != tt.wantRoute || route.Upstream != tt.wantUpstream {
			t.Errorf("Match(%s %s) = route %q upstream %q, want %q %q", tt.method, tt.path, route.Name, route.Upstream, tt.wantRoute, tt.wantUpstream)
		}

		var bindings []string
		for _, step := range route.Chain.Steps() {
			bindings = append(bindings, step.Binding)
		}
		if got := strings.Join(bindings, ","); got != tt.wantBindings {
			t.Errorf("route %q bindings = %s, want %s in bundle order", route.Name, got, tt.wantBindings)
		}
	}
}

func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*bundle.Bundle)
		wantText string
	}{
		{name: "duplicate upstream", change: func(b *bundle.Bundle) { b.Upstreams = append(b.Upstreams, b.Upstreams[0]) }, wantText: `upstream "api" is defined twice`},
		{name: "relative target", change: func(b *bundle.Bundle) { b.Upstreams[0].Targets[0].URL = "/local" }, wantText: `target "/local" is invalid`},
		{name: "no targets", change: func(b *bundle.Bundle) { b.Upstreams[0].Targets = nil }, wantText: `upstream "api"`},
		{name: "unknown upstream", change: func(b *bundle.Bundle) { b.Routes[0].Upstream = "gone" }, wantText: `upstream "gone" is not defined`},
		{name: "duplicate route", change: func(b *bundle.Bundle) { b.Routes[1].Name = "api" }, wantText: `route "api" is defined twice`},
		{name: "route without paths", change: func(b *bundle.Bundle) { b.Routes[0].Paths = nil }, wantText: `route "api" has no paths`},
		{name: "missing plugin", change: func(b *bundle.Bundle) { delete(b.Plugins, bundle.Key("log", "2.0.0")) }, wantText: `plugin "log" version "2.0.0" is missing`},
		{name: "mislabelled plugin", change: func(b *bundle.Bundle) { b.Plugins[bundle.Key("log", "2.0.0")] = pluginCode("log", "9.0.0") }, wantText: `contains plugin "log" version "9.0.0"`},
		{name: "unknown binding route", change: func(b *bundle.Bundle) { b.Bindings[0].Route = "gone" }, wantText: `route "gone" is not defined`},
		{name: "config not an object", change: func(b *bundle.Bundle) { b.Bindings[2].Config = json.RawMessage(`[1]`) }, wantText: `binding "b3": bind config`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := validBundle()
			tt.change(b)

			_, err := Build(b, chain.NewCompiler(0))
			if err == nil {
				t.Fatal("Build returned no error")
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}

func TestBuildChecksHash(t *testing.T) {
	b := validBundle()
	if err := b.Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	b.Routes[0].Paths = []string{"/changed"}

	if _, err := Build(b, chain.NewCompiler(0)); err == nil {
		t.Error("Build accepted a bundle changed after sealing")
	}
}

func TestRouteStepsOrder(t *testing.T) {
	tests := []struct {
		name     string
		bindings []config.Binding
		want     string
	}{
		{
			name: "priority overrides creation order",
			bindings: []config.Binding{
				{ID: "low", Plugin: "log", Version: "2.0.0", Priority: new(1)},
				{ID: "high", Plugin: "auth", Version: "1.0.0", Priority: new(10)},
			},
			want: "high,low",
		},
		{
			name: "route binding replaces tenant binding of same plugin",
			bindings: []config.Binding{
				{ID: "tenant", Plugin: "auth", Version: "1.0.0"},
				{ID: "route", Plugin: "auth", Version: "1.0.0", Route: "web"},
				{ID: "other", Plugin: "log", Version: "2.0.0"},
			},
			want: "route,other",
		},
		{
			name: "disabled binding left out",
			bindings: []config.Binding{
				{ID: "off", Plugin: "auth", Version: "1.0.0", Enabled: new(false)},
				{ID: "on", Plugin: "log", Version: "2.0.0"},
			},
			want: "on",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := validBundle()
			b.Bindings = tt.bindings

			rt, err := Build(b, chain.NewCompiler(0))
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			route, _ := rt.Match("GET", "/")

			var got []string
			for _, step := range route.Chain.Steps() {
				got = append(got, step.Binding)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("steps = %s, want %s", strings.Join(got, ","), tt.want)
			}
		})
	}
}
