package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/edge/cache"
	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/runtime"
	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// bundleSource serves the bundle that the test put last.
type bundleSource struct {
	mu      sync.Mutex
	current *bundle.Bundle
}

func (s *bundleSource) put(b *bundle.Bundle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = b
}

func (s *bundleSource) Bundle(_ context.Context, tenant string) (*bundle.Bundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil || s.current.Tenant != tenant {
		return nil, fmt.Errorf("tenant %q: %w", tenant, bundle.ErrTenantNotFound)
	}
	return s.current, nil
}

// signedRevision returns a sealed bundle whose one plugin sets X-Mark to
// mark, signed by signer.
func signedRevision(t *testing.T, signer *signing.Signer, revision int64, mark string) *bundle.Bundle {
	t.Helper()

	source := `func rewrite(ctx, conf) { ctx.req.set_header("X-Mark", "` + mark + `") }`
	code := bundle.PluginCode{Name: "acme/mark", Version: "1.0.0", Source: source, SHA256: bundle.SourceHash(source)}
	code.Signature = signer.Sign(code.Name, code.Version, code.SHA256)
	b := &bundle.Bundle{
		Tenant:    "acme",
		Revision:  revision,
		Upstreams: []config.Upstream{{Name: "api", Targets: []config.Target{{URL: "http://127.0.0.1:9001"}}}},
		Routes:    []config.Route{{Name: "api", Paths: []string{"/"}, Upstream: "api"}},
		Bindings:  []config.Binding{{ID: "b1", Plugin: code.Name, Version: code.Version}},
		Plugins:   map[string]bundle.PluginCode{bundle.Key(code.Name, code.Version): code},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return b
}

func TestTamperedBundleKeepsLastGoodRevision(t *testing.T) {
	public, private, err := signing.GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	signer, err := signing.NewSigner(private)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	compiler := chain.NewCompiler(0)
	compiler.RequireSignatures(public)

	var logs bytes.Buffer
	var logsMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &logsMu, w: &logs}, nil))
	source := &bundleSource{}
	source.put(signedRevision(t, signer, 1, "good"))
	store, err := cache.New(cache.Options{
		Source: source,
		Build:  func(b *bundle.Bundle) (*runtime.Runtime, error) { return runtime.Build(b, compiler) },
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("cache.New: %v", err)
	}
	t.Cleanup(store.Close)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime(revision 1): %v", err)
	}

	// Revision 2 is rewritten in transit: new source with a matching hash
	// and a resealed bundle, but the signature of revision 1's code.
	tampered := signedRevision(t, signer, 2, "good")
	code := tampered.Plugins[bundle.Key("acme/mark", "1.0.0")]
	code.Source = strings.Replace(code.Source, `"good"`, `"evil"`, 1)
	code.SHA256 = bundle.SourceHash(code.Source)
	tampered.Plugins[bundle.Key("acme/mark", "1.0.0")] = code
	if err := tampered.Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	source.put(tampered)
	store.Invalidate("acme", 2)

	deadline := time.Now().Add(2 * time.Second)
	for !logContains(&logsMu, &logs, "new bundle rejected") {
		if time.Now().After(deadline) {
			t.Fatalf("no build failure logged after 2s; log:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	rt, ok := store.Loaded("acme")
	if !ok || rt.Revision != 1 {
		t.Fatalf("loaded runtime = %v (cached %t), want revision 1 kept", rt, ok)
	}
	if !logContains(&logsMu, &logs, "signature does not verify") {
		t.Errorf("log does not say why the build failed:\n%s", logs.String())
	}

	source.put(signedRevision(t, signer, 3, "better"))
	store.Invalidate("acme", 3)
	deadline = time.Now().Add(2 * time.Second)
	for {
		if rt, ok := store.Loaded("acme"); ok && rt.Revision == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("signed revision 3 not loaded after 2s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func logContains(mu *sync.Mutex, logs *bytes.Buffer, text string) bool {
	mu.Lock()
	defer mu.Unlock()
	return strings.Contains(logs.String(), text)
}
