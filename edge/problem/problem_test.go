package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	recorder := httptest.NewRecorder()
	recorder.Header().Set("Content-Encoding", "gzip")

	Write(recorder, New(http.StatusBadGateway, "upstream \"api\" is unreachable", "req-1"))

	if got, want := recorder.Code, http.StatusBadGateway; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got, want := recorder.Header().Get("Content-Type"), ContentType; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if got := recorder.Header().Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding = %q, want none", got)
	}

	var got Details
	if err := json.Unmarshal(recorder.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode body %q: %v", recorder.Body.String(), err)
	}
	want := Details{Type: "about:blank", Title: "Bad Gateway", Status: 502, Detail: "upstream \"api\" is unreachable", RequestID: "req-1"}
	if got != want {
		t.Errorf("body = %+v, want %+v", got, want)
	}
}

func TestTitle(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   string
	}{
		{name: "standard", status: 404, want: "Not Found"},
		{name: "client closed", status: 499, want: "Client Closed Request"},
		{name: "unknown", status: 599, want: "Status 599"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Title(tt.status); got != tt.want {
				t.Errorf("Title(%d) = %q, want %q", tt.status, got, tt.want)
			}
		})
	}
}
