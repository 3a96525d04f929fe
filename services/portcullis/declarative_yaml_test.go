package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadDocumentYAML(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    string
		wantErr string
	}{
		{"anchors", "tenant: acme\nupstreams:\n  - &b {name: b, targets: [{url: 'http://a', weight: 1}]}\n  - <<: *b\n    name: c\n", `{"tenant":"acme","upstreams":[{"name":"b","targets":[{"url":"http://a","weight":1}]},{"name":"c","targets":[{"url":"http://a","weight":1}]}]}`, ""},
		{"YAML 1.1 booleans stay strings", "tenant: acme\nconsumers:\n  - {name: mobile, tags: [no, on, y]}\nbindings:\n  - {plugin: p, config: {n: 1}}\n", `{"bindings":[{"config":{"n":1},"plugin":"p"}],"consumers":[{"name":"mobile","tags":["no","on","y"]}],"tenant":"acme"}`, ""},
		{"integers above 2^53", "tenant: acme\nbindings:\n  - {plugin: p, config: {count: 9007199254740993}}\n", `{"bindings":[{"config":{"count":9007199254740993},"plugin":"p"}],"tenant":"acme"}`, ""},
		{"JSON with tabs", "{\n\t\"tenant\": \"acme\",\n\t\"routes\": []\n}\n", `{"routes":[],"tenant":"acme"}`, ""},
		{"second document", "tenant: acme\nroutes: []\n---\ntenant: acme\n", "", "more than one YAML document"},
		{"duplicate key", "tenant: acme\ntenant: globex\n", "", "already defined"},
		{"tab indentation", "tenant: acme\nupstreams:\n\t- name: b\n", "", "not valid YAML"},
		{"top-level list", "- tenant: acme\n", "", "must hold one mapping"},
		{"empty file", "", "", "the file is empty"},
		{"only a comment", "# nothing\n", "", "the file is empty"},
		{"number key", "tenant: acme\nbindings:\n  - {plugin: p, config: {1: x}}\n", "", "bindings[0].config has a key that is not a string"},
		{"timestamp", "tenant: acme\nconsumers:\n  - {name: c, description: 2024-01-02}\n", "", "consumers[0].description is a YAML timestamp"},
		{"no tenant", "routes: []\n", "", "names no tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "doc.yaml")
			if err := os.WriteFile(file, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, _, err := readDocument(file, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readDocument() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readDocument() error = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("readDocument() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestWriteDocumentKeepsDigits(t *testing.T) {
	doc := map[string]json.RawMessage{
		"tenant":   json.RawMessage(`"acme"`),
		"revision": json.RawMessage(`7`),
		"bindings": json.RawMessage(`[{"plugin":"p","config":{"count":9007199254740993,"flag":"no"}}]`),
	}
	file := filepath.Join(t.TempDir(), "out.yaml")
	if err := writeDocument(doc, file, nil); err != nil {
		t.Fatal(err)
	}

	got, _, err := readDocument(file, "")
	if err != nil {
		t.Fatalf("readDocument() of the export error = %v", err)
	}
	want := `{"bindings":[{"config":{"count":9007199254740993,"flag":"no"},"plugin":"p"}],"tenant":"acme"}`
	if string(got) != want {
		t.Errorf("exported document read back = %s, want %s", got, want)
	}
}
