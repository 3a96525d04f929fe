package i18n

import "testing"

func TestCompareVerbs(t *testing.T) {
	tests := []struct {
		name       string
		english    string
		translated string
		wantErr    bool
	}{
		{"same order", "%q has port %d", "%q 的端口是 %d", false},
		{"explicit indexes", "%q not found in %q", "%[2]q 中未找到 %[1]q", false},
		{"percent literal", "use !#$%%& or %d", "使用 !#$%%& 或 %d", false},
		{"verb changed", "%q is bad", "%s 无效", true},
		{"argument missing", "%q has %d labels", "%q 有标签", true},
		{"extra argument", "%q is bad", "%q 和 %q 无效", true},
		{"swapped without indexes", "%q has %d", "%d 属于 %q", true},
		{"width kept", "%5d items", "%5d 项", false},
		{"width dropped", "%5d items", "%d 项", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := compareVerbs(tt.english, tt.translated)
			if (err != nil) != tt.wantErr {
				t.Errorf("compareVerbs(%q, %q) = %v, want error %v", tt.english, tt.translated, err, tt.wantErr)
			}
		})
	}
}
