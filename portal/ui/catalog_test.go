package ui

import (
	"io/fs"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestCatalogueKeysMatch(t *testing.T) {
	for key, english := range englishMessages {
		chinese, found := chineseMessages[key]
		if !found {
			t.Errorf("key %q is in the English catalogue but not in the Chinese one", key)
			continue
		}
		if strings.TrimSpace(english) == "" || strings.TrimSpace(chinese) == "" {
			t.Errorf("key %q has an empty message: en %q, zh-CN %q", key, english, chinese)
		}
		if strings.Count(english, "%") != strings.Count(chinese, "%") {
			t.Errorf("key %q: en %q and zh-CN %q have different format verbs", key, english, chinese)
		}
	}
	for key := range chineseMessages {
		if _, found := englishMessages[key]; !found {
			t.Errorf("key %q is in the Chinese catalogue but not in the English one", key)
		}
	}
}

func TestWebTextHasBothLanguages(t *testing.T) {
	english, chinese := reflect.ValueOf(webText[English]), reflect.ValueOf(webText[SimplifiedChinese])
	for i := range english.NumField() {
		field := english.Type().Field(i)
		if field.Type.Kind() != reflect.String {
			continue
		}
		if english.Field(i).String() == "" || chinese.Field(i).String() == "" {
			t.Errorf("webText field %s: en %q, zh-CN %q, want both filled", field.Name, english.Field(i).String(), chinese.Field(i).String())
		}
	}
	for state, word := range webText[English].States {
		if webText[SimplifiedChinese].States[state] == "" || word == "" {
			t.Errorf("webText state %q lacks a word in one language", state)
		}
	}
}

var catalogueUse = regexp.MustCompile(`\.(?:Get|Format) "([a-z_.]+)"`)

// TestTemplatesUseKnownKeys reads every literal key in the templates and
// the Go files and fails on one that the catalogue lacks. Keys built with
// printf are checked by the page rendering tests.
func TestTemplatesUseKnownKeys(t *testing.T) {
	files, err := fs.Glob(templates, "templates/console*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob templates: %v, %d files", err, len(files))
	}

	used := 0
	for _, name := range files {
		text, err := fs.ReadFile(templates, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, match := range catalogueUse.FindAllStringSubmatch(string(text), -1) {
			used++
			if _, found := englishMessages[match[1]]; !found {
				t.Errorf("%s uses key %q, which the catalogue lacks", name, match[1])
			}
		}
	}
	if used < 100 {
		t.Errorf("found %d catalogue keys in the templates, want at least 100", used)
	}
}

func TestMissingKeyShows(t *testing.T) {
	if got := catalogs[English].Get("no.such.key"); got != "[[no.such.key]]" {
		t.Errorf("Get of a missing key = %q, want [[no.such.key]]", got)
	}
}
