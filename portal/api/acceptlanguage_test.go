package api

import (
	"reflect"
	"testing"
)

func TestParseAcceptLanguage(t *testing.T) {
	tests := []struct {
		header string
		want   []LanguageRange
	}{
		{"", nil},
		{"en", []LanguageRange{{"en", 1}}},
		{"en;q=0.5, zh-CN", []LanguageRange{{"zh-CN", 1}, {"en", 0.5}}},
		{"zh, en", []LanguageRange{{"zh", 1}, {"en", 1}}},
		{" fr ; q=0.8 ,de;q=0.9", []LanguageRange{{"de", 0.9}, {"fr", 0.8}}},
		{"en;q=0, zh;q=0.1", []LanguageRange{{"zh", 0.1}}},
		{"en;q=high, zh;q=0.2", []LanguageRange{{"zh", 0.2}}},
		{", ;q=1, ja", []LanguageRange{{"ja", 1}}},
	}
	for _, tt := range tests {
		if got := ParseAcceptLanguage(tt.header); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAcceptLanguage(%q) = %+v, want %+v", tt.header, got, tt.want)
		}
	}
}
