package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHeaderAdder checks that the reference wrapper adds the light plugins'
// request and response headers for tenant headers5 only, and that the
// response keeps the handler's status and body.
func TestHeaderAdder(t *testing.T) {
	var seen http.Header
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("ok"))
	})
	handler := headerAdder{next: next}

	for _, tc := range []struct {
		host string
		adds bool
	}{
		{"headers5.localhost", true},
		{"headers5.localhost:8443", true},
		{"plain.localhost", false},
		{"headers50.localhost", false},
	} {
		seen = nil
		req := httptest.NewRequest(http.MethodGet, "http://"+tc.host+"/", nil)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)

		if rec.Code != http.StatusCreated || rec.Body.String() != "ok" {
			t.Errorf("%s: got %d %q, want 201 \"ok\"", tc.host, rec.Code, rec.Body.String())
		}
		for i, name := range lightHeaders {
			wantRequest, wantResponse := "", ""
			if tc.adds {
				wantRequest, wantResponse = lightRequestValue, lightResponseValue
			}
			if got := seen.Get(name); got != wantRequest {
				t.Errorf("%s: request header %d %s = %q, want %q", tc.host, i, name, got, wantRequest)
			}
			if got := rec.Header().Get(name); got != wantResponse {
				t.Errorf("%s: response header %d %s = %q, want %q", tc.host, i, name, got, wantResponse)
			}
		}
	}
}

// TestHeaderWriterImplicitStatus checks that a handler that writes the body
// without WriteHeader still gets the response headers.
func TestHeaderWriterImplicitStatus(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &headerWriter{ResponseWriter: rec}
	if _, err := w.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || rec.Header().Get(lightHeaders[0]) != lightResponseValue {
		t.Errorf("got status %d and %s %q, want 200 and %q", rec.Code, lightHeaders[0], rec.Header().Get(lightHeaders[0]), lightResponseValue)
	}
	if w.Unwrap() != rec {
		t.Error("Unwrap does not return the wrapped writer")
	}
}
