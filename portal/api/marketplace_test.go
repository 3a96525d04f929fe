package api

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"portcullis.dev/portal/store"
)

// Plugin sources that the try tests run through the real Risor host.
const (
	tagSource     = "func rewrite(ctx, conf) {\n  ctx.req.set_header(\"X-Tag\", conf.tag)\n  ctx.req.del_header(\"X-Drop\")\n  ctx.vars[\"tagged\"] = true\n}\n"
	rewriteSource = "func before_proxy(ctx, conf) {\n  ctx.req.set_path(\"/v2\" + ctx.req.path)\n}\n"
	denySource    = "func access(ctx, conf) {\n  if ctx.req.header(\"X-Key\") != \"ok\" {\n    ctx.exit(401, \"no key\\n\")\n  }\n}\n"
	noopSource    = "func access(ctx, conf) {}\n"
)

func marketDialects(t *testing.T, run func(t *testing.T, w *walkServer)) {
	forEachDialect(t, func(t *testing.T, dataSource string) { run(t, startWalkServer(t, dataSource)) })
}

func TestMarketplacePublishing(t *testing.T) {
	marketDialects(t, func(t *testing.T, w *walkServer) {
		_, alice := w.signupAndLogin("alice@example.com")
		_, bob := w.signupAndLogin("bob@example.com")

		w.must(alice, "POST", "/api/v1/namespaces", map[string]any{"name": "acme"}, http.StatusCreated)
		w.must(bob, "POST", "/api/v1/namespaces", map[string]any{"name": "acme"}, http.StatusConflict)
		w.must(walkOperatorToken, "POST", "/api/v1/namespaces", map[string]any{"name": "ops"}, http.StatusForbidden)

		version := map[string]any{"name": "acme/tag", "version": "1.0.0", "source": tagSource, "description": "adds a tag"}
		w.must(bob, "POST", "/api/v1/plugins", version, http.StatusForbidden)
		w.must(alice, "POST", "/api/v1/plugins", map[string]any{"name": "tag", "version": "1.0.0", "source": tagSource}, http.StatusForbidden)
		w.must(alice, "POST", "/api/v1/plugins", version, http.StatusCreated)
		w.must(alice, "POST", "/api/v1/plugins", version, http.StatusConflict)

		var got store.PluginVersion
		if err := json.Unmarshal(w.must(bob, "GET", "/api/v1/plugins/acme/tag/versions/1.0.0", nil, http.StatusOK), &got); err != nil {
			t.Fatalf("decode version: %v", err)
		}
		if got.Name != "acme/tag" || got.Description != "adds a tag" {
			t.Errorf("version = %s %q, want acme/tag with its description", got.Name, got.Description)
		}

		w.must(bob, "POST", "/api/v1/plugins/acme/tag/versions/1.0.0/deprecate", nil, http.StatusForbidden)
		w.must(bob, "GET", "/api/v1/plugins/acme/tag/stats", nil, http.StatusForbidden)
		w.must(alice, "POST", "/api/v1/plugins/acme/tag/versions/1.0.0/deprecate", map[string]any{"notice": "use 1.1.0"}, http.StatusOK)
		w.must(walkOperatorToken, "POST", "/api/v1/plugins/acme/tag/versions/1.0.0/yank", nil, http.StatusOK)
		w.must(alice, "GET", "/api/v1/plugins/acme/tag/stats", nil, http.StatusOK)

		var plugin store.Plugin
		if err := json.Unmarshal(w.must(bob, "GET", "/api/v1/plugins/acme/tag", nil, http.StatusOK), &plugin); err != nil {
			t.Fatalf("decode plugin: %v", err)
		}
		if len(plugin.Versions) != 1 || !plugin.Versions[0].Deprecated || !plugin.Versions[0].Yanked || plugin.Versions[0].Notice != "" {
			t.Errorf("versions = %+v, want 1.0.0 deprecated and yanked, with the yank's empty notice", plugin.Versions)
		}

		w.must(alice, "POST", "/api/v1/namespaces/acme/members", map[string]any{"email": "bob@example.com"}, http.StatusCreated)
		w.must(bob, "POST", "/api/v1/plugins", map[string]any{"name": "acme/tag", "version": "1.1.0", "source": tagSource}, http.StatusCreated)
	})
}

func TestMarketplaceBrowsePages(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	for i := range store.BrowsePageSize + 3 {
		name := "plugin-" + string(rune('a'+i/10)) + string(rune('a'+i%10))
		w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": name, "version": "1.0.0", "source": tagSource}, http.StatusCreated)
	}

	var first, second store.CatalogPage
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/plugins?q=plugin-", nil, http.StatusOK), &first); err != nil {
		t.Fatalf("decode page 1: %v", err)
	}
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/plugins?q=plugin-&page=2", nil, http.StatusOK), &second); err != nil {
		t.Fatalf("decode page 2: %v", err)
	}
	if len(first.Plugins) != store.BrowsePageSize || !first.HasMore || first.Total != int64(store.BrowsePageSize+3) {
		t.Errorf("page 1 = %d plugins, has_more %v, total %d; want %d, true, %d", len(first.Plugins), first.HasMore, first.Total, store.BrowsePageSize, store.BrowsePageSize+3)
	}
	if len(second.Plugins) != 3 || second.HasMore {
		t.Errorf("page 2 = %d plugins, has_more %v; want 3, false", len(second.Plugins), second.HasMore)
	}
	if first.Plugins[0].LatestVersion != "1.0.0" {
		t.Errorf("latest version = %q, want 1.0.0", first.Plugins[0].LatestVersion)
	}
	w.must(walkOperatorToken, "GET", "/api/v1/plugins?page=0", nil, http.StatusUnprocessableEntity)
	w.must(walkOperatorToken, "GET", "/api/v1/plugins?namespace=Not_Valid", nil, http.StatusUnprocessableEntity)
}

func TestMarketplaceInstalls(t *testing.T) {
	marketDialects(t, func(t *testing.T, w *walkServer) {
		w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": noopSource}, http.StatusCreated)
		a := w.seedWalkTenant("tenant-a", "alice@example.com")
		base := "/api/v1/tenants/" + a.slug
		for _, version := range []string{"1.2.0", "2.0.0"} {
			w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "tag", "version": version, "source": tagSource}, http.StatusCreated)
		}

		w.must(a.token, "POST", base+"/installs", map[string]any{"plugin": "tag", "range": "^1.2"}, http.StatusCreated)
		w.must(a.token, "POST", base+"/installs", map[string]any{"plugin": "tag", "version": "2.0.0"}, http.StatusConflict)
		var binding struct {
			ID      string `json:"id"`
			Version string `json:"version"`
		}
		data := w.must(a.token, "POST", base+"/bindings", map[string]any{"plugin": "tag", "config": map[string]any{"tag": "t"}}, http.StatusCreated)
		if err := json.Unmarshal(data, &binding); err != nil || binding.Version != "1.2.0" {
			t.Fatalf("binding without version = %s, %v; want version 1.2.0", data, err)
		}

		w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "tag", "version": "1.3.0", "source": tagSource}, http.StatusCreated)
		var install store.Install
		if err := json.Unmarshal(w.must(a.token, "GET", base+"/installs/tag", nil, http.StatusOK), &install); err != nil {
			t.Fatalf("decode install: %v", err)
		}
		if install.Version != "1.3.0" || install.PreviousVersion != "1.2.0" {
			t.Errorf("install after 1.3.0 = %+v, want 1.3.0 with previous 1.2.0", install)
		}

		install = store.Install{}
		if err := json.Unmarshal(w.must(a.token, "PUT", base+"/installs/tag", map[string]any{"version": "2.0.0"}, http.StatusOK), &install); err != nil {
			t.Fatalf("decode install: %v", err)
		}
		if install.Version != "2.0.0" || install.Range != "" {
			t.Errorf("install after PUT = %+v, want 2.0.0 pinned", install)
		}
		if err := json.Unmarshal(w.must(a.token, "POST", base+"/installs/tag/rollback", nil, http.StatusOK), &install); err != nil {
			t.Fatalf("decode install: %v", err)
		}
		if install.Version != "1.3.0" {
			t.Errorf("install after rollback = %+v, want 1.3.0", install)
		}

		w.must(a.token, "DELETE", base+"/installs/tag", nil, http.StatusConflict)
		w.must(a.token, "DELETE", base+"/bindings/"+binding.ID, nil, http.StatusNoContent)
		w.must(a.token, "DELETE", base+"/installs/tag", nil, http.StatusNoContent)
		var installs []store.Install
		if err := json.Unmarshal(w.must(a.token, "GET", base+"/installs", nil, http.StatusOK), &installs); err != nil {
			t.Fatalf("decode installs: %v", err)
		}
		if len(installs) != 1 || installs[0].Plugin != "tenant-a-plug" {
			t.Errorf("installs = %+v, want only the walk's tenant-a-plug", installs)
		}
	})
}

func TestTryRoute(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": noopSource}, http.StatusCreated)
	for name, source := range map[string]string{"tag": tagSource, "rewrite": rewriteSource, "deny": denySource} {
		w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": name, "version": "1.0.0", "source": source}, http.StatusCreated)
	}
	a := w.seedWalkTenant("tenant-a", "alice@example.com")
	base := "/api/v1/tenants/" + a.slug
	route := a.slug + "-route"
	w.must(a.token, "POST", base+"/bindings", map[string]any{"plugin": "tag", "version": "1.0.0", "route": route, "config": map[string]any{"tag": "blue"}}, http.StatusCreated)
	w.must(a.token, "POST", base+"/bindings", map[string]any{"plugin": "rewrite", "version": "1.0.0", "config": map[string]any{}}, http.StatusCreated)
	w.must(a.token, "POST", base+"/bindings", map[string]any{"plugin": "deny", "version": "1.0.0", "route": route, "config": map[string]any{}}, http.StatusCreated)

	sample := map[string]any{"method": "GET", "path": "/items", "query": "a=1", "headers": map[string]string{"X-Drop": "1", "X-Key": "ok"}}
	var passed tryResponse
	if err := json.Unmarshal(w.must(a.token, "POST", base+"/routes/"+route+"/try", sample, http.StatusOK), &passed); err != nil {
		t.Fatalf("decode try: %v", err)
	}
	if passed.Upstream == nil {
		t.Fatalf("try = %+v, want an upstream request", passed)
	}
	if passed.Upstream.Path != "/v2/items" || passed.Upstream.Query != "a=1" {
		t.Errorf("upstream = %s?%s, want /v2/items?a=1", passed.Upstream.Path, passed.Upstream.Query)
	}
	if got := passed.Upstream.Headers["X-Tag"]; len(got) != 1 || got[0] != "blue" {
		t.Errorf("upstream X-Tag = %v, want [blue]", got)
	}
	if _, found := passed.Upstream.Headers["X-Drop"]; found {
		t.Errorf("upstream headers = %v, want X-Drop removed", passed.Upstream.Headers)
	}
	if len(passed.Effects) != 2 || passed.Effects[0].Plugin != "tag" || passed.Effects[1].PathTo != "/v2/items" {
		t.Errorf("effects = %+v, want tag then the rewrite", passed.Effects)
	}
	if passed.Effects[0].Vars["tagged"] != true || passed.Effects[0].HeadersRemoved[0] != "X-Drop" {
		t.Errorf("tag effect = %+v, want var tagged and X-Drop removed", passed.Effects[0])
	}

	delete(sample["headers"].(map[string]string), "X-Key")
	var denied tryResponse
	if err := json.Unmarshal(w.must(a.token, "POST", base+"/routes/"+route+"/try", sample, http.StatusOK), &denied); err != nil {
		t.Fatalf("decode try: %v", err)
	}
	if denied.Upstream != nil || denied.Exit == nil || denied.Exit.Status != http.StatusUnauthorized {
		t.Errorf("try without key = %+v, want exit 401 and no upstream request", denied)
	}

	w.must(a.token, "POST", base+"/routes/nope/try", sample, http.StatusNotFound)
	w.must(a.token, "POST", base+"/routes/"+route+"/try", map[string]any{"method": "get"}, http.StatusUnprocessableEntity)
	w.must(a.token, "POST", base+"/routes/"+route+"/try", map[string]any{"path": "items"}, http.StatusUnprocessableEntity)
}

func TestEdgePluginKeyNeedsEdgeToken(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	w.must("", "GET", "/api/v1/edge/plugin-key", nil, http.StatusUnauthorized)

	var token struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(w.must(walkOperatorToken, "POST", "/api/v1/edge-tokens", map[string]any{}, http.StatusCreated), &token); err != nil {
		t.Fatalf("decode edge token: %v", err)
	}
	// The walk server has no signing key, so the portal reports none.
	w.must(token.Token, "GET", "/api/v1/edge/plugin-key", nil, http.StatusNotFound)
}

func TestHeartbeatPluginErrorsReachStats(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "tag", "version": "1.0.0", "source": tagSource}, http.StatusCreated)
	var token struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(w.must(walkOperatorToken, "POST", "/api/v1/edge-tokens", map[string]any{}, http.StatusCreated), &token); err != nil {
		t.Fatalf("decode edge token: %v", err)
	}

	for _, report := range []map[string]any{
		{"node_id": "edge-1", "region": "eu", "position": 0, "revisions": map[string]int64{}, "healthy": true, "plugin_errors": map[string]int64{"tag@1.0.0": 3}},
		{"node_id": "edge-2", "region": "us", "position": 0, "revisions": map[string]int64{}, "healthy": true, "plugin_errors": map[string]int64{"tag@1.0.0": 4}},
	} {
		w.must(token.Token, "POST", "/api/v1/edge/heartbeat", report, http.StatusOK)
	}
	invalid := map[string]any{"node_id": "edge-3", "region": "us", "position": 0, "revisions": map[string]int64{}, "healthy": true, "plugin_errors": map[string]int64{"no-version": 1}}
	w.must(token.Token, "POST", "/api/v1/edge/heartbeat", invalid, http.StatusUnprocessableEntity)
	negative := map[string]any{"node_id": "edge-3", "region": "us", "position": 0, "revisions": map[string]int64{}, "healthy": true, "plugin_errors": map[string]int64{"tag@1.0.0": -1}}
	w.must(token.Token, "POST", "/api/v1/edge/heartbeat", negative, http.StatusUnprocessableEntity)

	var stats store.PluginStats
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/plugins/tag/stats", nil, http.StatusOK), &stats); err != nil {
		t.Fatalf("decode stats: %v", err)
	}
	if len(stats.Versions) != 1 || stats.Versions[0].Errors != 7 {
		t.Errorf("stats = %+v, want 7 errors for 1.0.0", stats.Versions)
	}
}
