package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"portcullis.dev/portal/store"
	"portcullis.dev/portal/store/pgtest"
)

const shaperForm = "/ui/tenants/acme/bindings/new?plugin=shaper&version=1.0.0"

// startFollowConsole starts the seeded console on a new PostgreSQL
// database.
func startFollowConsole(t *testing.T) *consoleSite {
	t.Helper()
	return startConsoleOn(t, pgtest.NewDatabase(t))
}

func installShaper(t *testing.T, site *consoleSite, request store.InstallRequest) {
	t.Helper()
	request.Plugin = "shaper"
	if _, err := site.store.CreateInstall(context.Background(), "acme", request); err != nil {
		t.Fatalf("CreateInstall(%+v) error = %v", request, err)
	}
}

func publishShaper(t *testing.T, site *consoleSite, version string) {
	t.Helper()
	published := store.NewPluginVersion{Name: "shaper", Version: version, Source: "// shaper " + version, ConfigSchema: json.RawMessage(richSchema)}
	if _, err := site.store.PublishPlugin(context.Background(), published); err != nil {
		t.Fatalf("PublishPlugin(shaper %s) error = %v", version, err)
	}
}

// shaperFields are the posted fields of the binding form for shaper on the
// route "all", which the seeded binding of every route does not duplicate.
func shaperFields(version, follow string) url.Values {
	return url.Values{
		"plugin": {"shaper"}, "version": {version}, "route": {"all"}, "enabled": {"true"},
		"config.greeting": {"hi"}, followInstall: {follow},
	}
}

// followingIDs returns the ids of acme's bindings that follow an install.
func followingIDs(t *testing.T, site *consoleSite) []string {
	t.Helper()
	following, err := site.store.ListFollowingBindings(context.Background(), "acme")
	if err != nil {
		t.Fatalf("ListFollowingBindings() error = %v", err)
	}
	var ids []string
	for id := range following {
		ids = append(ids, id)
	}
	return ids
}

// followingID returns the id of acme's only binding that follows an
// install.
func followingID(t *testing.T, site *consoleSite) string {
	t.Helper()
	ids := followingIDs(t, site)
	if len(ids) != 1 {
		t.Fatalf("following bindings = %v, want exactly one", ids)
	}
	return ids[0]
}

// bindingCount returns the number of acme's bindings.
func bindingCount(t *testing.T, site *consoleSite) int {
	t.Helper()
	bindings, err := site.store.ListBindings(context.Background(), "acme")
	if err != nil {
		t.Fatalf("ListBindings() error = %v", err)
	}
	return len(bindings)
}

// bindingListRow returns the row of the binding list page that shows id.
func bindingListRow(t *testing.T, page, id string) string {
	t.Helper()
	for _, row := range strings.Split(page, "<tr>") {
		if strings.Contains(row, id) {
			return html.UnescapeString(row)
		}
	}
	t.Fatalf("binding list lacks a row of %s", id)
	return ""
}

func TestBindingFormOffersFollow(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Range: "^1"})

	status, page := site.get(shaperForm, map[string]string{"Accept-Language": "en"})
	if status != http.StatusOK {
		t.Fatalf("binding form: status = %d, want 200", status)
	}
	page = html.UnescapeString(page)
	for _, want := range []string{
		`<input type="radio" name="follow_install" value="false" checked>`,
		`<input type="radio" name="follow_install" value="true"`,
		fmt.Sprintf(englishMessages["bindings.pin_version"], "1.0.0"),
		fmt.Sprintf(englishMessages["bindings.follow_install_range"], "1.0.0", "^1"),
		englishMessages["bindings.follow_hint"],
	} {
		if !strings.Contains(page, want) {
			t.Errorf("binding form with an install lacks %q", want)
		}
	}
	if want := fmt.Sprintf(englishMessages["bindings.open_installed_form"], "1.0.0"); strings.Contains(page, want) {
		t.Errorf("binding form of the installed version shows %q", want)
	}
}

func TestBindingFormFollowPinnedInstall(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Version: "1.0.0"})

	_, page := site.get(shaperForm, map[string]string{"Accept-Language": "en"})
	page = html.UnescapeString(page)
	if want := fmt.Sprintf(englishMessages["bindings.follow_install"], "1.0.0"); !strings.Contains(page, want) {
		t.Errorf("binding form with a pinned install lacks %q", want)
	}
	if strings.Contains(page, "(currently 1.0.0, range") {
		t.Errorf("binding form with a pinned install names a range")
	}
}

func TestBindingFormCreatesFollowingBinding(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Range: "^1"})
	ctx := context.Background()

	status, page := site.post("/ui/tenants/acme/bindings", shaperFields("1.0.0", "true"))
	if status != http.StatusSeeOther {
		t.Fatalf("create following binding: status = %d, want 303; body %.500s", status, page)
	}
	id := followingID(t, site)

	declared, err := site.store.ListDeclaredBindings(ctx, "acme")
	if err != nil {
		t.Fatalf("ListDeclaredBindings() error = %v", err)
	}
	for _, binding := range declared {
		if binding.ID == id && binding.Version != "" {
			t.Errorf("declared version of the new binding = %q, want empty", binding.Version)
		}
		if binding.ID == site.binding && binding.Version != "1.0.0" {
			t.Errorf("declared version of the seeded binding = %q, want 1.0.0", binding.Version)
		}
	}

	publishShaper(t, site, "1.1.0")
	moved, err := site.store.GetBinding(ctx, "acme", id)
	if err != nil {
		t.Fatalf("GetBinding(%s) error = %v", id, err)
	}
	if moved.Version != "1.1.0" {
		t.Errorf("following binding after the install moved to 1.1.0 runs %s, want 1.1.0", moved.Version)
	}
	pinned, err := site.store.GetBinding(ctx, "acme", site.binding)
	if err != nil {
		t.Fatalf("GetBinding(%s) error = %v", site.binding, err)
	}
	if pinned.Version != "1.0.0" {
		t.Errorf("pinned binding after the install moved runs %s, want 1.0.0", pinned.Version)
	}
}

func TestBindingFormPinsWithInstall(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Range: "^1"})

	status, _ := site.post("/ui/tenants/acme/bindings", shaperFields("1.0.0", "false"))
	if status != http.StatusSeeOther {
		t.Fatalf("create pinned binding: status = %d, want 303", status)
	}
	if ids := followingIDs(t, site); len(ids) != 0 {
		t.Errorf("following bindings after pinning = %v, want none", ids)
	}
	if count := bindingCount(t, site); count != 2 {
		t.Errorf("bindings after pinning = %d, want 2", count)
	}
}

func TestBindingFormFollowUsesInstalledVersion(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Version: "1.0.0"})
	publishShaper(t, site, "1.1.0")

	_, page := site.get("/ui/tenants/acme/bindings/new?plugin=shaper&version=1.1.0", map[string]string{"Accept-Language": "en"})
	page = html.UnescapeString(page)
	for _, want := range []string{
		fmt.Sprintf(englishMessages["bindings.follow_other_version"], "1.1.0", "1.0.0"),
		`/ui/tenants/acme/bindings/new?plugin=shaper&version=1.0.0`,
		fmt.Sprintf(englishMessages["bindings.open_installed_form"], "1.0.0"),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("binding form of version 1.1.0 with 1.0.0 installed lacks %q", want)
		}
	}

	status, _ := site.post("/ui/tenants/acme/bindings", shaperFields("1.0.0", "true"))
	if status != http.StatusSeeOther {
		t.Fatalf("create following binding from the 1.0.0 form: status = %d, want 303", status)
	}
	binding, err := site.store.GetBinding(context.Background(), "acme", followingID(t, site))
	if err != nil {
		t.Fatalf("GetBinding() error = %v", err)
	}
	if binding.Version != "1.0.0" {
		t.Errorf("following binding runs %s, want the installed 1.0.0", binding.Version)
	}
}

func TestBindingPagesMarkFollowing(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Range: "^1"})
	if status, _ := site.post("/ui/tenants/acme/bindings", shaperFields("1.0.0", "true")); status != http.StatusSeeOther {
		t.Fatalf("create following binding: status = %d, want 303", status)
	}
	id := followingID(t, site)
	marker := englishMessages["bindings.follows_install"]

	_, page := site.get("/ui/tenants/acme/bindings", map[string]string{"Accept-Language": "en"})
	if row := bindingListRow(t, page, id); !strings.Contains(row, marker) {
		t.Errorf("binding list row of the following binding lacks %q:\n%s", marker, row)
	}
	if row := bindingListRow(t, page, site.binding); strings.Contains(row, marker) {
		t.Errorf("binding list row of the pinned binding shows %q", marker)
	}

	_, page = site.get("/ui/tenants/acme/bindings/"+id+"/edit", map[string]string{"Accept-Language": "en"})
	page = html.UnescapeString(page)
	if !strings.Contains(page, marker) {
		t.Errorf("edit form of the following binding lacks %q", marker)
	}
	if strings.Contains(page, `name="follow_install"`) {
		t.Errorf("edit form offers the version choice, but the edit form cannot change the version")
	}
	_, page = site.get("/ui/tenants/acme/bindings/"+site.binding+"/edit", map[string]string{"Accept-Language": "en"})
	if strings.Contains(html.UnescapeString(page), marker) {
		t.Errorf("edit form of the pinned binding shows %q", marker)
	}

	edit := shaperFields("", "")
	edit.Set("config.greeting", "hello")
	if status, body := site.post("/ui/tenants/acme/bindings/"+id, edit); status != http.StatusSeeOther {
		t.Fatalf("save following binding: status = %d, want 303; body %.500s", status, body)
	}
	if ids := followingIDs(t, site); len(ids) != 1 || ids[0] != id {
		t.Errorf("following bindings after an edit = %v, want [%s]", ids, id)
	}
}

func TestBindingFormWithoutInstallHasNoFollow(t *testing.T) {
	site := startFollowConsole(t)

	_, page := site.get(shaperForm, map[string]string{"Accept-Language": "en"})
	if strings.Contains(page, `name="follow_install"`) {
		t.Errorf("binding form without an install offers to follow it")
	}
	if strings.Contains(page, "Follow the installed version") {
		t.Errorf("binding form without an install shows the follow label")
	}
}

func TestBindingFormForgedFollowRejected(t *testing.T) {
	site := startFollowConsole(t)
	apiWords := []string{"POST", "api", "send"}

	status, page := site.postInLanguage("en", "/ui/tenants/acme/bindings", shaperFields("1.0.0", "true"))
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("follow without an install: status = %d, want 422", status)
	}
	checkFormMessage(t, page, `plugin "shaper" is not installed in tenant "acme": install it on the Installs page first, or pin a version`, apiWords...)
	if strings.Contains(page, `name="follow_install"`) {
		t.Errorf("form after the rejection offers to follow an install that does not exist")
	}

	status, page = site.postInLanguage("zh-CN", "/ui/tenants/acme/bindings", shaperFields("1.0.0", "true"))
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("zh-CN follow without an install: status = %d, want 422", status)
	}
	checkFormMessage(t, page, `插件 "shaper" 未安装在租户 "acme" 中：请先在“安装”页面安装该插件，或固定一个版本`, apiWords...)

	if count := bindingCount(t, site); count != 1 {
		t.Errorf("bindings after the rejected follows = %d, want the seeded 1", count)
	}
}

// TestStoreFollowErrorWordedForConsole checks the console wording of the
// store's error for a binding that follows a missing install, which the
// console meets when the install is deleted between its check and the
// write.
func TestStoreFollowErrorWordedForConsole(t *testing.T) {
	site := startFollowConsole(t)
	_, err := site.store.CreateBinding(context.Background(), "acme", newBinding(bindingForm{Plugin: "shaper", Follows: true}, nil))
	if err == nil {
		t.Fatal("CreateBinding(follow without an install) error = nil, want a field error")
	}

	want := `plugin "shaper" is not installed in tenant "acme": install it on the Installs page first, or pin a version`
	if got := forConsole(err).Error(); !strings.Contains(got, want) {
		t.Errorf("console wording = %q, want it to contain %q", got, want)
	}
}

func TestBindingFollowInChinese(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Range: "^1"})

	_, page := site.get(shaperForm+"&lang=zh-CN", nil)
	text := html.UnescapeString(visibleText(page))
	for _, want := range []string{
		chineseMessages["bindings.version"],
		fmt.Sprintf(chineseMessages["bindings.pin_version"], "1.0.0"),
		fmt.Sprintf(chineseMessages["bindings.follow_install_range"], "1.0.0", "^1"),
		chineseMessages["bindings.follow_hint"],
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Chinese binding form lacks %q", want)
		}
	}
	for _, key := range []string{"bindings.pin_version", "bindings.follow_install_range", "bindings.follow_hint"} {
		english := strings.SplitN(englishMessages[key], "%", 2)[0]
		if containsWords(text, strings.TrimSpace(english)) {
			t.Errorf("Chinese binding form shows the English text of %s", key)
		}
	}

	// Version 2.0.0 lies outside ^1, so the install stays on 1.0.0.
	publishShaper(t, site, "2.0.0")
	_, page = site.get("/ui/tenants/acme/bindings/new?plugin=shaper&version=2.0.0&lang=zh-CN", nil)
	text = html.UnescapeString(visibleText(page))
	for _, want := range []string{
		fmt.Sprintf(chineseMessages["bindings.follow_other_version"], "2.0.0", "1.0.0"),
		fmt.Sprintf(chineseMessages["bindings.open_installed_form"], "1.0.0"),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Chinese binding form of version 2.0.0 lacks %q", want)
		}
	}

	if status, _ := site.post("/ui/tenants/acme/bindings", shaperFields("1.0.0", "true")); status != http.StatusSeeOther {
		t.Fatalf("create following binding: status = %d, want 303", status)
	}
	id := followingID(t, site)
	_, page = site.get("/ui/tenants/acme/bindings?lang=zh-CN", nil)
	if want := chineseMessages["bindings.follows_install"]; !strings.Contains(bindingListRow(t, page, id), want) {
		t.Errorf("Chinese binding list row of the following binding lacks %q", want)
	}
	if strings.Contains(visibleText(page), englishMessages["bindings.follows_install"]) {
		t.Errorf("Chinese binding list shows %q", englishMessages["bindings.follows_install"])
	}
}

var hiddenVersion = regexp.MustCompile(`<input type="hidden" name="version" value="([^"]*)">`)

// formVersion returns the value of the hidden version input of a binding
// form, which the browser posts back.
func formVersion(t *testing.T, page string) string {
	t.Helper()
	match := hiddenVersion.FindStringSubmatch(page)
	if match == nil {
		t.Fatalf("binding form lacks the hidden version input")
	}
	return match[1]
}

// newBindingVersion returns the version of acme's only binding other than
// the seeded one.
func newBindingVersion(t *testing.T, site *consoleSite) string {
	t.Helper()
	bindings, err := site.store.ListBindings(context.Background(), "acme")
	if err != nil {
		t.Fatalf("ListBindings() error = %v", err)
	}
	var versions []string
	for _, binding := range bindings {
		if binding.ID != site.binding {
			versions = append(versions, binding.Version)
		}
	}
	if len(versions) != 1 {
		t.Fatalf("new bindings run versions %v, want exactly one binding", versions)
	}
	return versions[0]
}

// TestBindingFormRerenderKeepsChosenVersion submits the form of version
// 1.1.0 to follow an install of 1.0.0, so that it comes back, then pins
// with the form as it came back, as a browser would.
func TestBindingFormRerenderKeepsChosenVersion(t *testing.T) {
	tests := []struct {
		name   string
		change func(url.Values)
	}{
		// The seeded binding of every route makes the new one a duplicate.
		{"duplicate binding", func(fields url.Values) { fields.Set("route", "") }},
		{"invalid config", func(fields url.Values) { fields.Set("config.retries", "-1") }},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			site := startFollowConsole(t)
			installShaper(t, site, store.InstallRequest{Version: "1.0.0"})
			publishShaper(t, site, "1.1.0")

			fields := shaperFields("1.1.0", "true")
			test.change(fields)
			status, page := site.post("/ui/tenants/acme/bindings", fields)
			if status == http.StatusSeeOther {
				t.Fatalf("follow from the 1.1.0 form: status = 303, want the form back")
			}
			if got := formVersion(t, page); got != "1.1.0" {
				t.Errorf("hidden version of the form that came back = %q, want the chosen 1.1.0", got)
			}
			page = html.UnescapeString(page)
			if want := fmt.Sprintf(englishMessages["bindings.pin_version"], "1.1.0"); !strings.Contains(page, want) {
				t.Errorf("form that came back lacks %q", want)
			}
			if label := fmt.Sprintf(englishMessages["bindings.pin_version"], "1.0.0"); strings.Contains(page, label) {
				t.Errorf("form that came back offers %q, the installed version", label)
			}

			pin := shaperFields(formVersion(t, page), "false")
			test.change(pin)
			pin.Set("config.retries", "2")
			pin.Set(confirmDuplicate, "true")
			if status, body := site.post("/ui/tenants/acme/bindings", pin); status != http.StatusSeeOther {
				t.Fatalf("pin from the form that came back: status = %d, want 303; body %.500s", status, body)
			}
			if got := newBindingVersion(t, site); got != "1.1.0" {
				t.Errorf("pinned binding runs %s, want the chosen 1.1.0", got)
			}
		})
	}
}

func TestBindingFormFollowOtherVersionRejected(t *testing.T) {
	site := startFollowConsole(t)
	installShaper(t, site, store.InstallRequest{Version: "1.0.0"})
	named := `{"type":"object","properties":{"name":{"type":"string"}},"additionalProperties":false}`
	published := store.NewPluginVersion{Name: "shaper", Version: "1.1.0", Source: "// shaper 1.1.0", ConfigSchema: json.RawMessage(named)}
	if _, err := site.store.PublishPlugin(context.Background(), published); err != nil {
		t.Fatalf("PublishPlugin(shaper 1.1.0) error = %v", err)
	}
	fields := url.Values{
		"plugin": {"shaper"}, "version": {"1.1.0"}, "route": {"all"}, "enabled": {"true"},
		"config.name": {"x"}, followInstall: {"true"},
	}

	status, page := site.postInLanguage("en", "/ui/tenants/acme/bindings", fields)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("follow from the 1.1.0 form: status = %d, want 422", status)
	}
	checkFormMessage(t, page, "this form is for version 1.1.0, but the installed version is 1.0.0: to follow the install, open the form for version 1.0.0 with the link above, or pin version 1.1.0")
	if strings.Contains(formErrorText(page), "config.greeting") {
		t.Errorf("form errors check the inputs of 1.1.0 against the schema of 1.0.0:\n%s", formErrorText(page))
	}
	page = html.UnescapeString(page)
	for _, want := range []string{
		`name="config.name" value="x"`,
		`<input type="radio" name="follow_install" value="true" checked>`,
		`/ui/tenants/acme/bindings/new?plugin=shaper&version=1.0.0`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("form that came back lacks %q", want)
		}
	}

	status, page = site.postInLanguage("zh-CN", "/ui/tenants/acme/bindings", fields)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("zh-CN follow from the 1.1.0 form: status = %d, want 422", status)
	}
	checkFormMessage(t, page, "此表单对应版本 1.1.0，而已安装的版本是 1.0.0：要跟随安装，请通过上方的链接打开版本 1.0.0 的表单，或固定版本 1.1.0", "form", "installed", "pin")

	if count := bindingCount(t, site); count != 1 {
		t.Errorf("bindings after the rejected follows = %d, want the seeded 1", count)
	}
}
