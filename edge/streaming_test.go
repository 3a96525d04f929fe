package edge

import (
	"bufio"
	"fmt"
	"net/http"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// chunkUpstream starts an upstream that writes three lines without a
// Content-Length, flushing each, and sends the next line only after the
// test reports on next that the client read the last one.
func chunkUpstream(t *testing.T, next <-chan struct{}) string {
	t.Helper()
	return newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			http.NewResponseController(w).Flush()
			select {
			case <-next:
			case <-time.After(5 * time.Second):
				return
			case <-r.Context().Done():
				return
			}
		}
	}))
}

func TestStreamingChunks(t *testing.T) {
	for _, protocol := range []string{"h1", "h2c", "h2", "h3"} {
		t.Run(protocol, func(t *testing.T) {
			next := make(chan struct{})
			source := newMemorySource(tenantBundle(t, "acme", 1, chunkUpstream(t, next), []config.Route{
				{Name: "chunks", Paths: []string{"/chunks"}, Upstream: "api"},
			}, nil))
			te := startEdge(t, source, nil)

			client, base := te.client(t, protocol)
			req, err := http.NewRequest("GET", base+"/chunks", nil)
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			req.Host = "acme.localhost"
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			defer resp.Body.Close()
			if protocol == "h1" && (len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked") {
				t.Errorf("Transfer-Encoding = %v, want chunked", resp.TransferEncoding)
			}

			// Each line must reach the client while the upstream waits
			// before it writes the next one.
			lines := bufio.NewReader(resp.Body)
			for i := range 3 {
				got := make(chan string, 1)
				go func() {
					line, _ := lines.ReadString('\n')
					got <- line
				}()
				select {
				case line := <-got:
					if want := fmt.Sprintf("chunk %d\n", i); line != want {
						t.Fatalf("line %d = %q, want %q", i, line, want)
					}
				case <-time.After(3 * time.Second):
					t.Fatalf("chunk %d did not arrive within 3s while the upstream waited", i)
				}
				next <- struct{}{}
			}
		})
	}
}
