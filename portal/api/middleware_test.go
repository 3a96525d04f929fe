package api

import (
	"log/slog"
	"testing"
)

func TestRequestLevel(t *testing.T) {
	tests := []struct {
		path   string
		status int
		want   slog.Level
	}{
		{"/api/v1/edge/heartbeat", 200, slog.LevelDebug},
		{"/api/v1/edge/changes", 200, slog.LevelDebug},
		{"/api/v1/edge/heartbeat", 401, slog.LevelInfo},
		{"/api/v1/edge/heartbeat", 500, slog.LevelError},
		{"/api/v1/edges", 200, slog.LevelInfo},
		{"/api/v1/tenants", 201, slog.LevelInfo},
		{"/api/v1/tenants", 503, slog.LevelError},
	}
	for _, tt := range tests {
		if got := requestLevel(tt.path, tt.status); got != tt.want {
			t.Errorf("requestLevel(%q, %d) = %v, want %v", tt.path, tt.status, got, tt.want)
		}
	}
}
