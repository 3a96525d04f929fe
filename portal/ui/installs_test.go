package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// holdBackShaper installs shaper ^1 in acme with a binding that follows
// it, then publishes shaper 1.1.0 with a schema that the binding's config
// fails, and returns the binding's id.
func holdBackShaper(t *testing.T, site *consoleSite) string {
	t.Helper()
	ctx := context.Background()
	if _, err := site.store.CreateInstall(ctx, "acme", store.InstallRequest{Plugin: "shaper", Range: "^1"}); err != nil {
		t.Fatalf("CreateInstall(shaper ^1) error = %v", err)
	}
	binding, err := site.store.CreateBinding(ctx, "acme", config.Binding{Plugin: "shaper", Config: json.RawMessage(`{"greeting":"hi"}`)})
	if err != nil {
		t.Fatalf("CreateBinding(follows shaper) error = %v", err)
	}
	numeric := `{"type":"object","properties":{"greeting":{"type":"integer"}}}`
	if _, err := site.store.PublishPlugin(ctx, store.NewPluginVersion{Name: "shaper", Version: "1.1.0", Source: "// shaper 1.1", ConfigSchema: json.RawMessage(numeric)}); err != nil {
		t.Fatalf("PublishPlugin(shaper 1.1.0) error = %v", err)
	}
	return binding.ID
}

func TestConsoleInstallShowsHeldBack(t *testing.T) {
	site := startConsole(t)
	id := holdBackShaper(t, site)

	status, page := site.get("/ui/tenants/acme/installs", map[string]string{"Accept-Language": "en"})
	if status != http.StatusOK {
		t.Fatalf("installs page: status = %d, want 200", status)
	}
	page = html.UnescapeString(page)
	for _, want := range []string{
		fmt.Sprintf(englishMessages["installs.held_back"], "1.1.0", id),
		"config.greeting",
		englishMessages["installs.held_fix"],
		"/ui/tenants/acme/bindings/" + id + "/edit",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("installs page lacks %q", want)
		}
	}

	_, page = site.get("/ui/tenants/acme/installs?lang=zh-CN", nil)
	if want := fmt.Sprintf(chineseMessages["installs.held_back"], "1.1.0", id); !strings.Contains(html.UnescapeString(page), want) {
		t.Errorf("Chinese installs page lacks %q", want)
	}

	site.cookie = site.userCookie("viewer@example.com", accounts.RoleViewer)
	_, page = site.get("/ui/tenants/acme/installs", map[string]string{"Accept-Language": "en"})
	page = html.UnescapeString(page)
	if want := fmt.Sprintf(englishMessages["installs.held_back"], "1.1.0", id); !strings.Contains(page, want) {
		t.Errorf("installs page for a viewer lacks %q", want)
	}
	if strings.Contains(page, "config.greeting") {
		t.Errorf("installs page for a viewer shows the held-back message, which can quote the binding's config")
	}
}

func TestConsoleInstallUpdateNamesBinding(t *testing.T) {
	site := startConsole(t)
	id := holdBackShaper(t, site)

	status, page := site.post("/ui/tenants/acme/installs", url.Values{"plugin": {"shaper"}, "version": {"1.1.0"}})

	if status != http.StatusUnprocessableEntity {
		t.Fatalf("install shaper 1.1.0: status = %d, want 422", status)
	}
	if want := "bindings." + id + ".config.greeting"; !strings.Contains(page, want) {
		t.Errorf("failed install page lacks the field %q", want)
	}
	install, err := site.store.GetInstall(context.Background(), "acme", "shaper")
	if err != nil {
		t.Fatalf("GetInstall() error = %v", err)
	}
	if install.Version != "1.0.0" {
		t.Errorf("install version after a rejected change = %s, want 1.0.0", install.Version)
	}
}

func TestConsoleInstallDeleteNamesFollowers(t *testing.T) {
	site := startConsole(t)
	id := holdBackShaper(t, site)

	status, page := site.postInLanguage("en", "/ui/tenants/acme/installs/delete", url.Values{"plugin": {"shaper"}})
	if status != http.StatusConflict {
		t.Fatalf("delete followed install: status = %d, want 409", status)
	}
	checkFormMessage(t, page, `bindings follow the install of plugin "shaper": delete them on the Bindings page, or pin each to a version through the API with PATCH and "version": binding "`+id+`"`)
	if text := formErrorText(page); strings.Contains(text, "give them a version") {
		t.Errorf("console conflict names a fix that the console lacks:\n%s", text)
	}

	status, page = site.postInLanguage("zh-CN", "/ui/tenants/acme/installs/delete", url.Values{"plugin": {"shaper"}})
	if status != http.StatusConflict {
		t.Fatalf("zh-CN delete followed install: status = %d, want 409", status)
	}
	checkFormMessage(t, page, `有绑定跟随插件 "shaper" 的安装：请在“绑定”页面删除它们，或通过 API 用 PATCH 和 "version" 为每个绑定固定一个版本：binding "`+id+`"`, "delete", "give")

	if _, err := site.store.GetInstall(context.Background(), "acme", "shaper"); err != nil {
		t.Errorf("GetInstall() after the rejected deletes error = %v, want the install kept", err)
	}
}
