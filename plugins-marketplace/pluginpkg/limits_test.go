package pluginpkg

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func packageFS(manifest, readme string) fstest.MapFS {
	return fstest.MapFS{
		"manifest.json": {Data: []byte(manifest)},
		"plugin.risor":  {Data: []byte("func access(ctx, conf) {}\n")},
		"README.md":     {Data: []byte(readme)},
		"tests.json":    {Data: []byte(`[{"name":"passes","request":{},"expect":{"status":200}}]`)},
	}
}

func TestLoadAcceptsNamespacedName(t *testing.T) {
	pkg, err := LoadFS(packageFS(`{"name":"acme/auth","version":"1.0.0","phases":["access"]}`, "# auth\n"))
	if err != nil {
		t.Fatalf("LoadFS() error = %v", err)
	}
	if pkg.Manifest.Name != "acme/auth" {
		t.Errorf("name = %q, want acme/auth", pkg.Manifest.Name)
	}
}

func TestLoadAcceptsPortalNames(t *testing.T) {
	for _, name := range []string{"acme/My_Plugin.x", "Auth2", "a-b/c.d"} {
		if _, err := LoadFS(packageFS(`{"name":"`+name+`","version":"1.0.0","phases":["access"]}`, "# x\n")); err != nil {
			t.Errorf("LoadFS(name %q) error = %v, want the portal's name rule to accept it", name, err)
		}
	}
}

func TestLoadRejectsInvalidNames(t *testing.T) {
	for _, name := range []string{"Acme/auth", "acme/", "/auth", "a/b/c", "acme/versions", "stats", "acme/_x"} {
		_, err := LoadFS(packageFS(`{"name":"`+name+`","version":"1.0.0","phases":["access"]}`, "# x\n"))
		var invalid *ValidationError
		if !errors.As(err, &invalid) || invalid.Issues[0].Field != "name" {
			t.Errorf("LoadFS(name %q) error = %v, want an issue on name", name, err)
		}
	}
}

func TestLoadNamesSizeLimits(t *testing.T) {
	manifest := "{\n  \"name\": \"big\",\n  \"version\": \"1.0.0\",\n  \"phases\": [\"access\"],\n  \"description\": \"" + strings.Repeat("d", MaxDescriptionSize+1) + "\"\n}\n"
	_, err := LoadFS(packageFS(manifest, strings.Repeat("r", MaxReadmeSize+1)))

	var invalid *ValidationError
	if !errors.As(err, &invalid) {
		t.Fatalf("LoadFS() error = %v, want a *ValidationError", err)
	}
	byFile := map[string]Issue{}
	for _, issue := range invalid.Issues {
		byFile[issue.File] = issue
	}
	readme, found := byFile[ReadmeFile]
	if !found || !strings.Contains(readme.Message, "size check failed") {
		t.Errorf("issues = %+v, want a size issue on %s", invalid.Issues, ReadmeFile)
	}
	description, found := byFile[ManifestJSON]
	if !found || description.Field != "description" || description.Line != 5 {
		t.Errorf("manifest issue = %+v, want description on line 5", description)
	}
}

func TestLoadRejectsLongVersion(t *testing.T) {
	version := "1.0.0-" + strings.Repeat("a", MaxVersionLength)
	_, err := LoadFS(packageFS(`{"name":"auth","version":"`+version+`","phases":["access"]}`, "# x\n"))
	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Issues[0].Field != "version" {
		t.Fatalf("LoadFS(version of %d characters) error = %v, want an issue on version", len(version), err)
	}
	if !strings.Contains(invalid.Issues[0].Message, "above the limit of 128") {
		t.Errorf("message = %q, want the limit of 128", invalid.Issues[0].Message)
	}
}
