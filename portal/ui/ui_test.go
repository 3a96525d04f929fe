package ui

import (
	"strings"
	"testing"
)

func TestChooseLanguage(t *testing.T) {
	tests := []struct {
		name           string
		query          string
		acceptLanguage string
		want           string
	}{
		{"nothing", "", "", English},
		{"english", "", "en-GB", English},
		{"chinese", "", "zh", SimplifiedChinese},
		{"chinese region", "", "zh-HK,en;q=0.5", SimplifiedChinese},
		{"upper case", "", "ZH-cn", SimplifiedChinese},
		{"weights", "", "en;q=0.2, zh;q=0.9", SimplifiedChinese},
		{"zero weight", "", "zh;q=0, en;q=0.1", English},
		{"bad weight skipped", "", "zh;q=abc, en", English},
		{"wildcard", "", "*", English},
		{"query en", "en", "zh", English},
		{"query zh-CN", "zh-CN", "en", SimplifiedChinese},
		{"query unknown", "fr", "zh", SimplifiedChinese},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chooseLanguage(tt.query, tt.acceptLanguage); got != tt.want {
				t.Errorf("chooseLanguage(%q, %q) = %q, want %q", tt.query, tt.acceptLanguage, got, tt.want)
			}
		})
	}
}

func TestPageTextHasBothLanguages(t *testing.T) {
	for _, lang := range []string{English, SimplifiedChinese} {
		text, ok := pageText[lang]
		if !ok {
			t.Fatalf("pageText lacks %s", lang)
		}
		if text.Lang != lang || text.Title == "" || len(text.Features) == 0 {
			t.Errorf("pageText[%s] = %+v, want a filled page", lang, text)
		}
		if _, ok := pageText[text.SwitchLang]; !ok || text.SwitchLang == lang {
			t.Errorf("pageText[%s].SwitchLang = %q, want the other language", lang, text.SwitchLang)
		}
		if !strings.Contains(string(text.DocsText), "docs/api.md") {
			t.Errorf("pageText[%s].DocsText lacks docs/api.md", lang)
		}
	}
}
