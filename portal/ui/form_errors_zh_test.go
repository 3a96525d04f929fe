package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestConsoleFieldErrorsInChinese(t *testing.T) {
	site := startConsole(t)

	tests := []struct {
		name        string
		targets     string
		wantEnglish string
		wantChinese string
	}{
		{"store check", "ftp://10.0.0.5:8080 1", "is not a valid target: use an absolute http:// or https:// URL", "不是有效的目标：请使用以 http:// 或 https:// 开头的绝对 URL"},
		{"form check", "http://10.0.0.5:8080 heavy", "is not a URL and an integer weight: write one target a line", "不是 URL 加整数权重：请每行写一个目标"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := url.Values{"name": {"broken"}, "targets": {tt.targets}}
			status, page := site.post("/ui/tenants/acme/upstreams", fields)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("English form: status = %d, want 422", status)
			}
			if !strings.Contains(page, tt.wantEnglish) {
				t.Errorf("English form page lacks %q", tt.wantEnglish)
			}

			// The console reads the language from a "lang" form field too.
			fields.Set("lang", "zh-CN")
			status, page = site.post("/ui/tenants/acme/upstreams", fields)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("Chinese form: status = %d, want 422", status)
			}
			if !strings.Contains(page, tt.wantChinese) {
				t.Errorf("Chinese form page lacks %q", tt.wantChinese)
			}
			if strings.Contains(page, tt.wantEnglish) {
				t.Errorf("Chinese form page still shows the English %q", tt.wantEnglish)
			}
		})
	}
}
