package i18n

import (
	"strings"
	"testing"
)

func TestInstallFormatsKeepVerbs(t *testing.T) {
	if len(installFormats) == 0 {
		t.Fatal("installFormats is empty")
	}
	for english, chinese := range installFormats {
		if err := compareVerbs(english, chinese); err != nil {
			t.Errorf("Chinese format %q does not match %q: %v", chinese, english, err)
		}
		if chinese == english {
			t.Errorf("format %q is not translated", english)
		}
		if earlier, found := storeFormats[english]; found {
			t.Errorf("format %q is also in storeFormats as %q: keep one entry", english, earlier)
		}
	}
}

func TestInstallVectorFailureTranslated(t *testing.T) {
	format := "test vector %q of plugin %q version %q fails with this binding's config: %s: change the config, or pin the binding to the version it runs now"

	got, found := Translate(format, "always shows the header", "show", "1.1.0", "X-Show: missing")

	if !found {
		t.Fatalf("Translate(%q) found no Chinese format", format)
	}
	for _, value := range []string{`"always shows the header"`, `"show"`, `"1.1.0"`, "X-Show: missing", "固定"} {
		if !strings.Contains(got, value) {
			t.Errorf("Translate() = %q, want it to contain %q", got, value)
		}
	}
}
