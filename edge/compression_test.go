package edge

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"portcullis.dev/tenants/config"
)

// TestAcceptEncodingPassesAsSent checks that the edge neither adds an
// Accept-Encoding the client did not send nor removes the one it sent.
func TestAcceptEncodingPassesAsSent(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	te := startEdge(t, newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, nil)), nil)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)

	for _, sent := range []string{"", "br"} {
		req, err := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "acme.localhost"
		if sent != "" {
			req.Header.Set("Accept-Encoding", sent)
		}

		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		var seen upstreamSeen
		if err := json.Unmarshal(body, &seen); err != nil {
			t.Fatalf("decode upstream report %q: %v", body, err)
		}
		if got := seen.Header.Get("Accept-Encoding"); got != sent {
			t.Errorf("client sent Accept-Encoding %q, upstream saw %q", sent, got)
		}
	}
}
