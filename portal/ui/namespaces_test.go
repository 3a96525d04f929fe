package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
)

func TestConsoleNamespaceCreated(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	site.cookie = site.userCookie("ann@example.com", accounts.RoleDeveloper)

	status, page := site.get("/ui/namespaces", nil)
	if status != http.StatusOK || !strings.Contains(page, englishMessages["namespaces.none"]) {
		t.Errorf("GET namespaces before any: status %d, want 200 with the empty-list text", status)
	}

	status, page = site.post("/ui/namespaces", url.Values{"name": {"Bad_Name"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, `<p class="field-error">`) || !strings.Contains(page, "Bad_Name") {
		t.Errorf("create namespace Bad_Name: status = %d, want 422 with a field error naming it", status)
	}

	if status, _ := site.post("/ui/namespaces", url.Values{"name": {"team"}}); status != http.StatusSeeOther {
		t.Fatalf("create namespace team: status = %d, want 303", status)
	}
	namespace, err := site.store.GetNamespace(ctx, "team")
	if err != nil || len(namespace.Members) != 1 {
		t.Fatalf("namespace team = %+v, %v; want one member", namespace, err)
	}
	if status, _ := site.post("/ui/namespaces", url.Values{"name": {"team"}}); status != http.StatusConflict {
		t.Errorf("create namespace team again: status = %d, want 409", status)
	}

	for _, version := range []string{"1.0.0", "1.2.0"} {
		_, err := site.store.PublishPlugin(ctx, store.NewPluginVersion{Name: "team/greeter", Version: version, Source: "// greeter", By: &store.Publisher{UserID: namespace.Owner}})
		if err != nil {
			t.Fatalf("publish team/greeter %s: %v", version, err)
		}
	}
	_, page = site.get("/ui/namespaces", nil)
	if !strings.Contains(page, `id="namespace-team"`) || !strings.Contains(page, "<code>team/greeter</code>") || !strings.Contains(page, "1.2.0, 1.0.0") {
		t.Errorf("namespace page lacks team with team/greeter at 1.2.0, 1.0.0")
	}
	if strings.Contains(page, "shaper") {
		t.Errorf("user's namespace page lists shaper, a plugin of the operator's namespace")
	}
}

func TestConsoleOperatorNamespace(t *testing.T) {
	site := startConsole(t)

	status, page := site.get("/ui/namespaces", nil)
	if status != http.StatusOK || !strings.Contains(page, `id="namespace-portcullis"`) || !strings.Contains(page, "<code>shaper</code>") {
		t.Errorf("operator GET namespaces: status %d, want 200 listing shaper in portcullis", status)
	}
	if strings.Contains(page, `action="/ui/namespaces"`) {
		t.Errorf("operator's namespace page offers the create form")
	}

	if status, _ := site.post("/ui/namespaces", url.Values{"name": {"team"}}); status != http.StatusForbidden {
		t.Errorf("operator creates a namespace: status = %d, want 403", status)
	}
	if _, err := site.store.GetNamespace(context.Background(), "team"); !isNotFound(err) {
		t.Errorf("namespace after the operator's rejected create: %v, want not found", err)
	}
}
