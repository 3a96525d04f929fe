package allinone

import (
	"net/http"
	"sync"
	"testing"

	"portcullis.dev/services/demo"
	"portcullis.dev/services/internal/apiclient"
	"portcullis.dev/tenants/bundle"
)

// TestCatalogPublishesWithoutDemo starts a server with the catalogue and
// without the demo: every first-party plugin is published and reviewed,
// and no demo tenant exists.
func TestCatalogPublishesWithoutDemo(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Catalog = true
	h := startHarnessWith(t, cfg)

	for _, name := range []string{"key-auth", "jwt-auth", "limit-count", "proxy-rewrite", "response-rewrite", "cors"} {
		var plugin struct {
			Versions []struct {
				Version string `json:"version"`
			} `json:"versions"`
		}
		h.mustAPI(http.MethodGet, "/api/v1/plugins/"+name, nil, &plugin)
		if len(plugin.Versions) == 0 {
			t.Errorf("plugin %s has no versions, want the catalogue's", name)
		}
	}

	// A binding's bundle carries the reviewed mark of its version.
	h.addTenant("acme", "http://127.0.0.1:9", "/")
	h.bind("acme", "key-auth", "1.1.0", map[string]any{})
	current, err := h.server.portal.Store().Bundle(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if code := current.Plugins[bundle.Key("key-auth", "1.1.0")]; !code.Reviewed {
		t.Errorf("bundle plugin key-auth@1.1.0 reviewed = false, want the catalogue's mark")
	}

	err = h.api.Do(t.Context(), http.MethodGet, "/api/v1/tenants/"+demo.Tenant, nil, nil)
	if err == nil {
		t.Errorf("tenant %q exists, want no demo tenant without --demo", demo.Tenant)
	}
}

// statusRecorder records the status of every response it carries.
type statusRecorder struct {
	mu       sync.Mutex
	statuses []int
}

func (r *statusRecorder) RoundTrip(request *http.Request) (*http.Response, error) {
	response, err := http.DefaultTransport.RoundTrip(request)
	if err == nil {
		r.mu.Lock()
		r.statuses = append(r.statuses, response.StatusCode)
		r.mu.Unlock()
	}
	return response, err
}

// TestCatalogPublishAgainSkipsExisting publishes the catalogue a second
// time, as a restart with --catalog does. It must succeed without a
// publish that the portal rejects with 409, which its log would show as
// a failed request.
func TestCatalogPublishAgainSkipsExisting(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Catalog = true
	h := startHarnessWith(t, cfg)

	recorder := &statusRecorder{}
	client := &apiclient.Client{BaseURL: h.api.BaseURL, Token: h.api.Token, HTTP: &http.Client{Transport: recorder}}
	if err := demo.PublishCatalog(t.Context(), client); err != nil {
		t.Fatalf("PublishCatalog again: %v", err)
	}

	recorder.mu.Lock()
	defer recorder.mu.Unlock()
	if len(recorder.statuses) == 0 {
		t.Fatal("PublishCatalog sent no request")
	}
	for _, status := range recorder.statuses {
		if status >= 400 {
			t.Errorf("second PublishCatalog got status %d in %v, want no failed request", status, recorder.statuses)
			break
		}
	}
}
