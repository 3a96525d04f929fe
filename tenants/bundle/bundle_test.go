package bundle

import (
	"testing"

	"portcullis.dev/tenants/config"
)

func TestSealAndVerify(t *testing.T) {
	b := &Bundle{
		Tenant:   "acme",
		Revision: 7,
		Routes:   []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "backend"}},
		Plugins:  map[string]PluginCode{Key("hello", "1.0.0"): {Name: "hello", Version: "1.0.0", Source: "func rewrite(ctx, conf) {}"}},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal: %v", err)
	}
	if err := b.Verify(); err != nil {
		t.Fatalf("verify sealed bundle: %v", err)
	}

	b.Routes[0].Paths[0] = "/admin"
	if err := b.Verify(); err == nil {
		t.Errorf("verify after a change: got nil, want a hash mismatch")
	}
}

func TestSealDependsOnRevision(t *testing.T) {
	first := &Bundle{Tenant: "acme", Revision: 1}
	second := &Bundle{Tenant: "acme", Revision: 2}
	if err := first.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := second.Seal(); err != nil {
		t.Fatal(err)
	}

	if first.Hash == second.Hash {
		t.Errorf("two revisions share hash %q", first.Hash)
	}
}
