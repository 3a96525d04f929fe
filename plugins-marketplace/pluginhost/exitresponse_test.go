package pluginhost

import (
	"errors"
	"net/http"
	"testing"
)

func TestRunExitResponse(t *testing.T) {
	failure := errors.New("hook failed")
	tests := []struct {
		name       string
		has        bool
		hook       func(ex *Exchange) error
		wantStatus int
		wantHeader string
		wantErr    error
	}{
		{"without header_filter", false, nil, 401, "", nil},
		{"adds a header", true, func(ex *Exchange) error {
			if ex.Response.Status != 401 || ex.Exit != nil {
				t.Errorf("hook sees status %d and exit %v, want 401 and none", ex.Response.Status, ex.Exit)
			}
			ex.Response.Header.Set("Access-Control-Allow-Origin", "*")
			return nil
		}, 401, "*", nil},
		{"replaces the exit", true, func(ex *Exchange) error {
			ex.Exit = &Exit{Status: 403, Body: "no"}
			return nil
		}, 403, "", nil},
		{"hook fails", true, func(*Exchange) error { return failure }, 401, "", failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := &Exchange{Response: Response{Header: http.Header{}}, Exit: &Exit{Status: 401, Body: "who?"}}
			err := RunExitResponse(ex, tt.has, func() error { return tt.hook(ex) })

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RunExitResponse() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if ex.Exit == nil || ex.Exit.Status != tt.wantStatus || ex.Response.Status != tt.wantStatus {
				t.Errorf("exit %+v, response status %d; want status %d in both", ex.Exit, ex.Response.Status, tt.wantStatus)
			}
			if got := ex.Response.Header.Get("Access-Control-Allow-Origin"); got != tt.wantHeader {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantHeader)
			}
		})
	}
}
