package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// openMarketStores opens a store with a signer on each dialect.
func openMarketStores(t *testing.T, run func(t *testing.T, s *Store, signer *signing.Signer)) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			_, private, err := signing.GenerateKey()
			if err != nil {
				t.Fatalf("GenerateKey() error = %v", err)
			}
			signer, err := signing.NewSigner(private)
			if err != nil {
				t.Fatalf("NewSigner() error = %v", err)
			}
			s, err := Open(context.Background(), dialect.open(t), Options{Compiler: fakeCompile, Signer: signer})
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			t.Cleanup(func() { s.Close() })
			run(t, s, signer)
		})
	}
}

// createMarketTenant creates a tenant without resources: installs and
// tenant-wide bindings need none.
func createMarketTenant(t *testing.T, s *Store, slug string) {
	t.Helper()
	if _, err := s.CreateTenant(context.Background(), config.Tenant{Slug: slug, Name: "Tenant " + slug}); err != nil {
		t.Fatalf("CreateTenant(%q) error = %v", slug, err)
	}
}

func createMarketUser(t *testing.T, s *Store, email string) User {
	t.Helper()
	user, err := s.CreateUser(context.Background(), NewUser{Email: email, Name: email, PasswordHash: "x"})
	if err != nil {
		t.Fatalf("CreateUser(%q) error = %v", email, err)
	}
	return user
}

func publishAs(t *testing.T, s *Store, by *Publisher, name, version string) (PluginVersion, error) {
	t.Helper()
	return s.PublishPlugin(context.Background(), NewPluginVersion{
		Name:         name,
		Version:      version,
		Source:       "// " + name + " " + version + "\n",
		Description:  "plugin " + name,
		ConfigSchema: json.RawMessage(helloSchema),
		By:           by,
	})
}

func mustPublish(t *testing.T, s *Store, name, version string) PluginVersion {
	t.Helper()
	published, err := publishAs(t, s, nil, name, version)
	if err != nil {
		t.Fatalf("PublishPlugin(%s@%s) error = %v", name, version, err)
	}
	return published
}

func TestNamespacePublishing(t *testing.T) {
	openMarketStores(t, func(t *testing.T, s *Store, signer *signing.Signer) {
		ctx := context.Background()
		alice := createMarketUser(t, s, "alice@example.com")
		bob := createMarketUser(t, s, "bob@example.com")

		if _, err := s.CreateNamespace(ctx, alice.ID, "acme"); err != nil {
			t.Fatalf("CreateNamespace(acme) error = %v", err)
		}
		if _, err := s.CreateNamespace(ctx, bob.ID, "acme"); !errors.Is(err, ErrConflict) {
			t.Errorf("CreateNamespace(taken) error = %v, want ErrConflict", err)
		}
		if _, err := s.CreateNamespace(ctx, bob.ID, OperatorNamespace); !errors.Is(err, ErrConflict) {
			t.Errorf("CreateNamespace(operator's) error = %v, want ErrConflict", err)
		}

		published, err := publishAs(t, s, &Publisher{UserID: alice.ID}, "acme/auth", "1.0.0")
		if err != nil {
			t.Fatalf("member publishes: error = %v", err)
		}
		if published.Namespace != "acme" || published.Name != "acme/auth" {
			t.Errorf("published = %s in %s, want acme/auth in acme", published.Name, published.Namespace)
		}
		if err := signing.Verify(signer.PublicKey(), published.Name, published.Version, published.SHA256, published.Signature); err != nil {
			t.Errorf("signature of the published version does not verify: %v", err)
		}

		if _, err := publishAs(t, s, &Publisher{UserID: bob.ID}, "acme/auth", "1.1.0"); !errors.Is(err, ErrForbidden) {
			t.Errorf("non-member publishes: error = %v, want ErrForbidden", err)
		}
		if _, err := publishAs(t, s, &Publisher{UserID: bob.ID}, "key-auth", "1.0.0"); !errors.Is(err, ErrForbidden) {
			t.Errorf("user publishes into the operator namespace: error = %v, want ErrForbidden", err)
		}
		if _, err := publishAs(t, s, &Publisher{UserID: alice.ID}, "acme/auth", "1.0.0"); !errors.Is(err, ErrConflict) {
			t.Errorf("republish 1.0.0: error = %v, want ErrConflict", err)
		}
		if _, err := s.AddNamespaceMember(ctx, Publisher{UserID: alice.ID}, "acme", "bob@example.com"); err != nil {
			t.Fatalf("AddNamespaceMember() error = %v", err)
		}
		if _, err := publishAs(t, s, &Publisher{UserID: bob.ID}, "acme/auth", "1.1.0"); err != nil {
			t.Errorf("added member publishes: error = %v", err)
		}
	})
}

func TestOperatorNamespaceNamesAreBare(t *testing.T) {
	openMarketStores(t, func(t *testing.T, s *Store, _ *signing.Signer) {
		published := mustPublish(t, s, "portcullis/key-auth", "1.0.0")
		if published.Name != "key-auth" || published.Namespace != OperatorNamespace {
			t.Errorf("published = %q in %q, want key-auth in %q", published.Name, published.Namespace, OperatorNamespace)
		}
		if _, err := s.GetPlugin(context.Background(), "portcullis/key-auth"); err != nil {
			t.Errorf("GetPlugin(portcullis/key-auth) error = %v", err)
		}
		if _, err := publishAs(t, s, nil, "key-auth", "1.0.0"); !errors.Is(err, ErrConflict) {
			t.Errorf("republish under the bare name: error = %v, want ErrConflict", err)
		}
	})
}

func TestPublishRejectsInvalidVersions(t *testing.T) {
	s := openTestStore(t)
	for _, version := range []string{"1.0", "v1.0.0", "01.0.0", "1.0.0-", "latest"} {
		_, err := publishAs(t, s, nil, "p", version)
		var fieldErr *config.FieldError
		if !errors.As(err, &fieldErr) || fieldErr.Field != "version" {
			t.Errorf("PublishPlugin(version %q) error = %v, want a field error on version", version, err)
		}
	}
	for _, name := range []string{"Acme/x", "acme/", "/x", "acme/versions", "a/b/c"} {
		_, err := publishAs(t, s, nil, name, "1.0.0")
		var fieldErr *config.FieldError
		if !errors.As(err, &fieldErr) || fieldErr.Field != "name" {
			t.Errorf("PublishPlugin(name %q) error = %v, want a field error on name", name, err)
		}
	}
}

func TestInstallsFollowRangeAndRollBack(t *testing.T) {
	openMarketStores(t, func(t *testing.T, s *Store, _ *signing.Signer) {
		ctx := context.Background()
		createMarketTenant(t, s, "acme")
		createMarketTenant(t, s, "beta")
		mustPublish(t, s, "auth", "1.2.0")
		mustPublish(t, s, "auth", "2.0.0")

		install, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "auth", Range: "^1.2"})
		if err != nil {
			t.Fatalf("CreateInstall(^1.2) error = %v", err)
		}
		if install.Version != "1.2.0" {
			t.Errorf("installed version = %q, want 1.2.0", install.Version)
		}
		if _, err := s.CreateInstall(ctx, "beta", InstallRequest{Plugin: "auth", Version: "1.2.0"}); err != nil {
			t.Fatalf("CreateInstall(pin) error = %v", err)
		}
		binding, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "auth", Config: json.RawMessage(`{"greeting":"hi"}`)})
		if err != nil {
			t.Fatalf("CreateBinding(no version) error = %v", err)
		}
		if binding.Version != "1.2.0" {
			t.Errorf("binding version = %q, want the installed 1.2.0", binding.Version)
		}

		before := revisionOf(t, s, "acme")
		betaBefore := revisionOf(t, s, "beta")
		mustPublish(t, s, "auth", "1.3.0")

		if got := revisionOf(t, s, "acme"); got != before+1 {
			t.Errorf("acme revision after 1.3.0 = %d, want %d", got, before+1)
		}
		if got := revisionOf(t, s, "beta"); got != betaBefore {
			t.Errorf("pinned beta revision after 1.3.0 = %d, want %d", got, betaBefore)
		}
		current, err := s.Bundle(ctx, "acme")
		if err != nil {
			t.Fatalf("Bundle(acme) error = %v", err)
		}
		if current.Bindings[0].Version != "1.3.0" {
			t.Errorf("bundle binding version = %q, want 1.3.0", current.Bindings[0].Version)
		}
		if _, found := current.Plugins[bundle.Key("auth", "1.3.0")]; !found {
			t.Errorf("bundle plugins = %v, want auth@1.3.0", current.Plugins)
		}
		if current.Plugins[bundle.Key("auth", "1.3.0")].Signature == "" {
			t.Errorf("bundle plugin code carries no signature")
		}

		rolled, err := s.RollbackInstall(ctx, "acme", "auth")
		if err != nil {
			t.Fatalf("RollbackInstall() error = %v", err)
		}
		if rolled.Version != "1.2.0" || rolled.PreviousVersion != "1.3.0" || rolled.Range != "" {
			t.Errorf("after rollback = %+v, want 1.2.0 pinned with previous 1.3.0", rolled)
		}
		stored, err := s.GetInstall(ctx, "acme", "auth")
		if err != nil {
			t.Fatalf("GetInstall() error = %v", err)
		}
		if !rolled.UpdatedAt.Equal(stored.UpdatedAt) {
			t.Errorf("rollback answered updated_at %v, want the stored %v", rolled.UpdatedAt, stored.UpdatedAt)
		}
		got, err := s.GetBinding(ctx, "acme", binding.ID)
		if err != nil {
			t.Fatalf("GetBinding() error = %v", err)
		}
		if got.Version != "1.2.0" {
			t.Errorf("binding version after rollback = %q, want 1.2.0", got.Version)
		}
	})
}

func TestYankAndDeprecate(t *testing.T) {
	openMarketStores(t, func(t *testing.T, s *Store, _ *signing.Signer) {
		ctx := context.Background()
		createMarketTenant(t, s, "acme")
		mustPublish(t, s, "auth", "1.0.0")
		mustPublish(t, s, "auth", "1.1.0")
		if _, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "auth", Version: "1.1.0"}); err != nil {
			t.Fatalf("CreateInstall() error = %v", err)
		}

		operator := Publisher{Operator: true}
		marked, err := s.MarkPluginVersion(ctx, operator, "auth", "1.1.0", MarkYank, "use 1.0.0")
		if err != nil {
			t.Fatalf("yank error = %v", err)
		}
		if !marked.Yanked || marked.Notice != "use 1.0.0" {
			t.Errorf("marked = %+v, want yanked with notice", marked.Marks)
		}
		if _, err := s.MarkPluginVersion(ctx, operator, "auth", "1.0.0", MarkDeprecate, ""); err != nil {
			t.Fatalf("deprecate error = %v", err)
		}

		install, err := s.GetInstall(ctx, "acme", "auth")
		if err != nil {
			t.Fatalf("GetInstall() error = %v", err)
		}
		if install.Version != "1.1.0" || install.Warning == "" {
			t.Errorf("install after yank = %+v, want 1.1.0 kept with a warning", install)
		}
		_, err = s.CreateBinding(ctx, "acme", config.Binding{Plugin: "auth", Version: "1.1.0", Config: json.RawMessage(`{"greeting":"x"}`)})
		var fieldErr *config.FieldError
		if !errors.As(err, &fieldErr) || fieldErr.Field != "version" {
			t.Errorf("bind yanked version: error = %v, want a field error on version", err)
		}
		if _, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "auth", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"x"}`)}); err != nil {
			t.Errorf("bind deprecated version: error = %v, want nil", err)
		}
		if _, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "auth", Range: "^1.1"}); err == nil {
			t.Errorf("CreateInstall(second) error = nil, want a conflict")
		}
		_, err = s.UpdateInstall(ctx, "acme", "auth", InstallRequest{Range: "^1.1"})
		if !errors.As(err, &fieldErr) || fieldErr.Field != "range" {
			t.Errorf("range with only yanked versions: error = %v, want a field error on range", err)
		}

		warnings, err := s.PluginWarnings(ctx, "acme")
		if err != nil {
			t.Fatalf("PluginWarnings() error = %v", err)
		}
		if len(warnings) != 2 {
			t.Errorf("warnings = %+v, want the deprecated binding and the yanked install", warnings)
		}
	})
}

func TestBrowseAndStats(t *testing.T) {
	openMarketStores(t, func(t *testing.T, s *Store, _ *signing.Signer) {
		ctx := context.Background()
		createMarketTenant(t, s, "acme")
		alice := createMarketUser(t, s, "alice@example.com")
		if _, err := s.CreateNamespace(ctx, alice.ID, "acme"); err != nil {
			t.Fatalf("CreateNamespace() error = %v", err)
		}
		mustPublish(t, s, "acme/auth", "1.0.0")
		mustPublish(t, s, "acme/auth", "1.10.0")
		mustPublish(t, s, "acme/auth", "1.9.0")
		mustPublish(t, s, "cors", "1.0.0")
		if _, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "acme/auth", Version: "1.9.0"}); err != nil {
			t.Fatalf("CreateInstall() error = %v", err)
		}

		page, err := s.BrowsePlugins(ctx, BrowseQuery{Namespace: "acme"})
		if err != nil {
			t.Fatalf("BrowsePlugins() error = %v", err)
		}
		if page.Total != 1 || len(page.Plugins) != 1 {
			t.Fatalf("namespace page = %+v, want acme/auth alone", page)
		}
		entry := page.Plugins[0]
		if entry.LatestVersion != "1.10.0" || entry.Installs != 1 || entry.Description != "plugin acme/auth" {
			t.Errorf("entry = %+v, want latest 1.10.0, 1 install and the description", entry)
		}
		page, err = s.BrowsePlugins(ctx, BrowseQuery{Text: "COR"})
		if err != nil || page.Total != 1 || page.Plugins[0].Name != "cors" {
			t.Errorf("search COR = %+v, %v; want cors", page, err)
		}
		if _, err := s.BrowsePlugins(ctx, BrowseQuery{Page: MaxBrowsePage + 1}); err == nil {
			t.Errorf("BrowsePlugins(page too high) error = nil, want a field error")
		}

		_, token, err := s.CreateEdgeToken(ctx)
		if err != nil {
			t.Fatalf("CreateEdgeToken() error = %v", err)
		}
		tokenID, err := s.EdgeTokenID(ctx, token)
		if err != nil {
			t.Fatalf("EdgeTokenID() error = %v", err)
		}
		report := EdgeReport{NodeID: "edge-1", Region: "eu", Revisions: map[string]int64{}, PluginErrors: map[string]int64{"acme/auth@1.9.0": 4}}
		if err := s.RecordEdge(ctx, tokenID, report); err != nil {
			t.Fatalf("RecordEdge() error = %v", err)
		}
		report.PluginErrors["acme/auth@1.9.0"] = 7
		if err := s.RecordEdge(ctx, tokenID, report); err != nil {
			t.Fatalf("RecordEdge(again) error = %v", err)
		}
		report.NodeID = "edge-2"
		report.PluginErrors = map[string]int64{"acme/auth@1.9.0": 2}
		if err := s.RecordEdge(ctx, tokenID, report); err != nil {
			t.Fatalf("RecordEdge(edge-2) error = %v", err)
		}

		stats, err := s.PluginStats(ctx, Publisher{UserID: alice.ID}, "acme/auth")
		if err != nil {
			t.Fatalf("PluginStats() error = %v", err)
		}
		var order []string
		for _, version := range stats.Versions {
			order = append(order, version.Version)
			if version.Version == "1.9.0" && (version.Installs != 1 || version.Errors != 9) {
				t.Errorf("1.9.0 stats = %+v, want 1 install and 9 errors", version)
			}
		}
		if len(order) != 3 || order[0] != "1.0.0" || order[1] != "1.9.0" || order[2] != "1.10.0" {
			t.Errorf("stats order = %v, want 1.0.0, 1.9.0, 1.10.0", order)
		}
		bob := createMarketUser(t, s, "bob@example.com")
		if _, err := s.PluginStats(ctx, Publisher{UserID: bob.ID}, "acme/auth"); !errors.Is(err, ErrForbidden) {
			t.Errorf("PluginStats(non-member) error = %v, want ErrForbidden", err)
		}
	})
}

func TestParseRange(t *testing.T) {
	for _, valid := range []string{"^1", "^1.2", "^1.2.3", "~1.2", "~0.3.1", "^0"} {
		if _, err := ParseRange(valid); err != nil {
			t.Errorf("ParseRange(%q) error = %v", valid, err)
		}
	}
	for _, invalid := range []string{"", "1.2", ">=1.0", "^1.2.3.4", "~1", "^v1", "^1.x", "*"} {
		if _, err := ParseRange(invalid); err == nil {
			t.Errorf("ParseRange(%q) error = nil, want an error", invalid)
		}
	}
}

func TestPublishFailureNamesCheckFileAndLine(t *testing.T) {
	s := openTestStore(t)

	_, err := s.PublishPlugin(context.Background(), NewPluginVersion{Name: "p", Version: "1.0.0", Source: "let a = 1\n syntax error\n"})

	var compileErr *CompileError
	if !errors.As(err, &compileErr) {
		t.Fatalf("PublishPlugin() error = %v, want a *CompileError", err)
	}
	if compileErr.Line != 2 {
		t.Errorf("Line = %d, want 2", compileErr.Line)
	}
	if want := "compile check failed in plugin.risor"; !strings.Contains(compileErr.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", compileErr.Error(), want)
	}

	_, err = s.PublishPlugin(context.Background(), NewPluginVersion{Name: "p", Version: "1.0.0", Source: strings.Repeat("x", MaxSourceLength+1)})
	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) || !strings.Contains(fieldErr.Message, "size check failed") || !strings.Contains(fieldErr.Message, "plugin.risor") {
		t.Errorf("oversize source: error = %v, want the size check and the file named", err)
	}
}

func TestBindingPatchFollowsInstall(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	createMarketTenant(t, s, "acme")
	mustPublish(t, s, "auth", "1.0.0")
	mustPublish(t, s, "auth", "1.1.0")
	if _, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "auth", Version: "1.1.0"}); err != nil {
		t.Fatalf("CreateInstall() error = %v", err)
	}
	pinned, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "auth", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"x"}`)})
	if err != nil {
		t.Fatalf("CreateBinding(pinned) error = %v", err)
	}

	follow := ""
	patched, err := s.UpdateBinding(ctx, "acme", pinned.ID, BindingPatch{Version: &follow})
	if err != nil {
		t.Fatalf("UpdateBinding(version \"\") error = %v", err)
	}
	if patched.Version != "1.1.0" {
		t.Errorf("binding version after following = %q, want the installed 1.1.0", patched.Version)
	}

	if _, err := s.UpdateBinding(ctx, "acme", pinned.ID, BindingPatch{Config: json.RawMessage(`{"greeting":"y"}`)}); err != nil {
		t.Fatalf("UpdateBinding(config) error = %v", err)
	}
	if _, err := s.UpdateInstall(ctx, "acme", "auth", InstallRequest{Version: "1.0.0"}); err != nil {
		t.Fatalf("UpdateInstall() error = %v", err)
	}
	got, err := s.GetBinding(ctx, "acme", pinned.ID)
	if err != nil {
		t.Fatalf("GetBinding() error = %v", err)
	}
	if got.Version != "1.0.0" {
		t.Errorf("binding version after the install moved = %q, want 1.0.0: a config patch must keep it following", got.Version)
	}
}
