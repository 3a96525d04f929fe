// Package admin serves the edge's operational endpoints: liveness,
// readiness and Prometheus metrics.
package admin

import (
	"net/http"
)

// Handler returns the admin mux:
//
//   - GET /healthz returns 200 while the process runs.
//   - GET /readyz returns 200 while ready returns true and 503 otherwise,
//     so load balancers stop sending traffic during shutdown.
//   - GET /metrics serves metrics, the Prometheus text exposition.
//   - GET /debug/preflight serves preflight: the plugin pre-flight failures
//     that keep a tenant on an older revision, as JSON.
func Handler(ready func() bool, metrics, preflight http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			writeText(w, http.StatusServiceUnavailable, "not ready\n")
			return
		}
		writeText(w, http.StatusOK, "ready\n")
	})
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET /debug/preflight", preflight)
	return mux
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
