package allinone

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"portcullis.dev/services/demo"
)

// consumerOf returns the status of a request to path with X-Api-Key key,
// and the X-Consumer header that the upstream received.
func consumerOf(pc protocolCase, path, key string) (int, string, error) {
	header := http.Header{}
	if key != "" {
		header.Set("X-Api-Key", key)
	}
	response, body, err := get(context.Background(), pc.client, pc.baseURL("acme.localhost")+path, header)
	if err != nil {
		return 0, "", err
	}
	if response.StatusCode != http.StatusOK {
		return response.StatusCode, "", nil
	}
	var echo demo.Echo
	if err := json.Unmarshal(body, &echo); err != nil {
		return 0, "", err
	}
	return response.StatusCode, echo.Headers["X-Consumer"], nil
}

// publishedVersions returns the latest published version of each plugin,
// by plugin name.
func (h *harness) publishedVersions() map[string]string {
	h.t.Helper()
	var page struct {
		Plugins []struct {
			Name          string `json:"name"`
			LatestVersion string `json:"latest_version"`
		} `json:"plugins"`
	}
	h.mustAPI(http.MethodGet, "/api/v1/plugins", nil, &page)
	published := map[string]string{}
	for _, plugin := range page.Plugins {
		published[plugin.Name] = plugin.LatestVersion
	}
	return published
}

// latestVersion returns the latest published version of a plugin.
func (h *harness) latestVersion(name string) string {
	h.t.Helper()

	version, found := h.publishedVersions()[name]
	if !found {
		h.t.Fatalf("plugin %q is not published", name)
	}
	return version
}

func TestApplyLandsWholeAtEdge(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Demo = true
	h := startHarnessWith(t, cfg)
	h.addTenant("acme", upstream(t, "backend"), "/open")
	base := "/api/v1/tenants/acme"
	h.mustAPI(http.MethodPost, base+"/consumers", map[string]any{"name": "mobile"}, nil)
	var first struct {
		ID string `json:"id"`
	}
	h.mustAPI(http.MethodPost, base+"/consumers/mobile/credentials", map[string]any{"type": "key-auth", "key": "first-key-0123456789"}, &first)
	pc := h.protocols()[0]

	// A client polls the new route while the apply lands: it must see the
	// route missing (404) or guarded (401), never served without its key.
	var doc map[string]any
	h.mustAPI(http.MethodGet, base+"/export", nil, &doc)
	doc["routes"] = append(doc["routes"].([]any), map[string]any{"name": "secure", "paths": []string{"/secure"}, "upstream": "backend"})
	doc["bindings"] = []any{map[string]any{"plugin": "key-auth", "version": h.latestVersion("key-auth"), "route": "secure"}}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var unguarded []int
	wg.Go(func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-stop:
				return
			default:
			}
			status, _, err := consumerOf(pc, "/secure", "")
			if err == nil && status != http.StatusNotFound && status != http.StatusUnauthorized {
				unguarded = append(unguarded, status)
			}
		}
	})
	time.Sleep(20 * time.Millisecond)
	h.mustAPI(http.MethodPost, base+"/apply", doc, nil)

	waitFor(t, "the applied route with key-auth", func() (bool, error) {
		status, consumer, err := consumerOf(pc, "/secure", "first-key-0123456789")
		return status == http.StatusOK && consumer == "mobile", err
	})
	close(stop)
	wg.Wait()
	if len(unguarded) > 0 {
		t.Errorf("requests without a key got statuses %v during the apply, want only 404 and 401", unguarded)
	}

	// Rotation: the new key works and the deleted one stops working.
	h.mustAPI(http.MethodPost, base+"/consumers/mobile/credentials", map[string]any{"type": "key-auth", "key": "second-key-0123456789"}, nil)
	h.mustAPI(http.MethodDelete, base+"/consumers/mobile/credentials/"+first.ID, nil, nil)
	waitFor(t, "the old key refused", func() (bool, error) {
		status, _, err := consumerOf(pc, "/secure", "first-key-0123456789")
		return status == http.StatusUnauthorized, err
	})
	status, consumer, err := consumerOf(pc, "/secure", "second-key-0123456789")
	if err != nil || status != http.StatusOK || consumer != "mobile" {
		t.Errorf("new key: status %d, consumer %q, error %v; want 200 for mobile", status, consumer, err)
	}
}
