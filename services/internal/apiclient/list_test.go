package apiclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portcullis.dev/portal"
)

const listToken = "list-test-operator-token-0123456789"

// startPortal starts a portal on loopback with tenant acme and plugin hello
// published, and returns a client of it.
func startPortal(t *testing.T) *Client {
	t.Helper()
	p, err := portal.New(portal.Config{
		DataSource: filepath.Join(t.TempDir(), "portal.db"),
		AdminToken: listToken,
		Compiler:   func(name, version, source string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})

	client := &Client{BaseURL: "http://" + ln.Addr().String(), Token: listToken, HTTP: &http.Client{Timeout: 10 * time.Second}}
	ctx := context.Background()
	setup := []struct {
		path string
		body any
	}{
		{"/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme"}},
		{"/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": "func access(ctx, conf) {}\n"}},
	}
	for _, call := range setup {
		if err := client.Do(ctx, http.MethodPost, call.path, call.body, nil); err != nil {
			t.Fatalf("POST %s: %v", call.path, err)
		}
	}
	return client
}

type listedBinding struct {
	ID string `json:"id"`
}

func TestListFollowsBindingPages(t *testing.T) {
	client := startPortal(t)
	ctx := context.Background()
	path := "/api/v1/tenants/acme/bindings"

	var created []string
	for i := range 5 {
		var binding listedBinding
		body := map[string]any{"plugin": "hello", "version": "1.0.0", "config": map[string]any{"n": i}}
		if err := client.Do(ctx, http.MethodPost, path, body, &binding); err != nil {
			t.Fatalf("create binding %d: %v", i, err)
		}
		created = append(created, binding.ID)
	}

	var first []listedBinding
	if err := client.Do(ctx, http.MethodGet, path+"?limit=2", nil, &first); err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 {
		t.Fatalf("one GET with limit 2 returned %d bindings, want 2", len(first))
	}

	listed, err := List[listedBinding](ctx, client, path+"?limit=2")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, binding := range listed {
		ids = append(ids, binding.ID)
	}
	if got, want := fmt.Sprint(ids), fmt.Sprint(created); got != want {
		t.Errorf("List over pages of 2 = %s, want every binding in creation order %s", got, want)
	}
}

func TestListEmpty(t *testing.T) {
	client := startPortal(t)

	listed, err := List[listedBinding](context.Background(), client, "/api/v1/tenants/acme/bindings")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if listed == nil || len(listed) != 0 {
		t.Errorf("List of no bindings = %#v, want an empty slice", listed)
	}
}

func TestNextLink(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"none", nil, ""},
		{"next", []string{`</api/v1/x?after=b&limit=2>; rel="next"`}, "/api/v1/x?after=b&limit=2"},
		{"unquoted rel", []string{`</a?after=1>; rel=next`}, "/a?after=1"},
		{"other relation", []string{`</a>; rel="prev"`}, ""},
		{"second link", []string{`</a>; rel="prev", </b>; rel="next"`}, "/b"},
		{"second header", []string{`</a>; rel="first"`, `</c>; rel="next"`}, "/c"},
		{"several relations", []string{`</d>; rel="last next"`}, "/d"},
		{"no brackets", []string{`/e; rel="next"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextLink(tt.values); got != tt.want {
				t.Errorf("nextLink(%q) = %q, want %q", tt.values, got, tt.want)
			}
		})
	}
}

func TestResolveNextStaysOnHost(t *testing.T) {
	current := "http://127.0.0.1:8080/api/v1/tenants/acme/bindings?limit=2"

	got, err := resolveNext(current, "/api/v1/tenants/acme/bindings?after=bnd_1&limit=2")
	if err != nil || got != "http://127.0.0.1:8080/api/v1/tenants/acme/bindings?after=bnd_1&limit=2" {
		t.Errorf("resolveNext(path) = %q, %v; want the path on the same host", got, err)
	}

	for _, next := range []string{"http://127.0.0.2:8080/x", "https://127.0.0.1:8080/x", "//127.0.0.1:9090/x"} {
		if _, err := resolveNext(current, next); err == nil || !strings.Contains(err.Error(), "leaves") {
			t.Errorf("resolveNext(%q) error = %v, want a rejection for leaving the host", next, err)
		}
	}
}
