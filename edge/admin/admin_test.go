package admin

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestHandler(t *testing.T) {
	var ready atomic.Bool
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("metric_total 1\n"))
	})
	handler := Handler(ready.Load, metrics, http.NotFoundHandler())

	tests := []struct {
		name   string
		ready  bool
		method string
		path   string
		want   int
	}{
		{name: "healthz before ready", ready: false, method: "GET", path: "/healthz", want: 200},
		{name: "readyz before ready", ready: false, method: "GET", path: "/readyz", want: 503},
		{name: "readyz when ready", ready: true, method: "GET", path: "/readyz", want: 200},
		{name: "metrics", ready: true, method: "GET", path: "/metrics", want: 200},
		{name: "unknown path", ready: true, method: "GET", path: "/debug", want: 404},
		{name: "post rejected", ready: true, method: "POST", path: "/healthz", want: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready.Store(tt.ready)
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, httptest.NewRequest(tt.method, tt.path, nil))
			if recorder.Code != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, recorder.Code, tt.want)
			}
		})
	}
}
