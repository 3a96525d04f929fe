package i18n

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// scannedDirs are the packages whose field errors reach API responses,
// relative to this package.
var scannedDirs = []string{"../../tenants/config", "../store", "../api", "../declarative", "../ui", "../accounts"}

// constructors maps the names of the field error and problem detail
// constructors to the position of their format argument.
var constructors = map[string]int{
	"invalid": 1, "Invalid": 1, "config.Invalid": 1, "fieldError": 1, "verificationError": 3,
	"conflict": 0, "conflictWith": 1, "forbiddenError": 0,
	"newProblemf": 3, "forbidden": 0, "unauthorized": 0, "problem.keepSource": 1,
	"consoleConflict": 0, "consoleForbidden": 0,
}

// untranslated lists the field messages that the catalog cannot cover,
// keyed by file and source text, with the reason.
var untranslated = map[string]string{
	// Constructors that pass their caller's format on.
	`validate.go: Invalid(field, format, args...)`:                                                     "invalid passes its caller's format to Invalid",
	`errors.go: config.Invalid(field, format, args...)`:                                                "fieldError passes its caller's format to config.Invalid",
	`domains.go: config.Invalid("verification_record", format, args...)`:                               "verificationError passes its caller's format to config.Invalid",
	`errors.go: conflict(format, args...)`:                                                             "conflictWith passes its caller's format to conflict",
	`access.go: newProblemf(http.StatusUnauthorized, "unauthorized", "Unauthorized", format, args...)`: "unauthorized passes its caller's format to newProblemf",
	`access.go: newProblemf(http.StatusForbidden, "forbidden", "Forbidden", format, args...)`:          "forbidden passes its caller's format to newProblemf",
	`problem.go: problem.keepSource(forbiddenErr.Message, forbiddenErr.Format, forbiddenErr.Args...)`:  "the ForbiddenError keeps the literal format of forbiddenError",

	// Text written by other programs, quoted inside a Portcullis frame.
	`vectors.go: fieldError("test_vectors", "%v", err)`: "the plugin tester's own error text",
	`problem.go: Message: err.Error()`:                  "the Risor compiler's error text; the issue keeps its format for a translation",
	`problem.go: Message: vectorErr.Error()`:            "the plugin tester's report of a failed vector",
	`problem.go: Message: fieldErr.Message`:             "the issue keeps its *config.FieldError, which translateIssues renders",
	`domains.go: Message: err.Message`:                  "the issue keeps the verification's *config.FieldError, which translateIssues renders",
}

// messageSite is one place that sets a field message.
type messageSite struct {
	position string
	key      string // file name and source text, as in untranslated
	format   string // the literal format or message, if any
	literal  bool
	fixed    bool // a FieldIssue or error literal's Message: no verbs apply
}

func TestCatalogCoversFieldMessages(t *testing.T) {
	sites := scanMessageSites(t)
	if len(sites) < 150 {
		t.Fatalf("found %d field message sites, want at least 150: check scannedDirs", len(sites))
	}

	seen := make(map[string]bool)
	for _, site := range sites {
		if reason, listed := untranslated[site.key]; listed {
			seen[site.key] = true
			if reason == "" {
				t.Errorf("%s: untranslated entry %q needs a reason", site.position, site.key)
			}
			continue
		}
		if !site.literal {
			t.Errorf("%s: %s has no literal format: pass a string literal to a constructor such as config.Invalid, conflict or forbiddenError, or as a FieldIssue's Message, so the catalog can translate it", site.position, site.key)
			continue
		}
		checkCatalogEntry(t, site)
	}

	for key := range untranslated {
		if !seen[key] {
			t.Errorf("untranslated entry %q matches no source: remove it", key)
		}
	}
}

func checkCatalogEntry(t *testing.T, site messageSite) {
	t.Helper()

	english := site.format
	if site.fixed {
		// A fixed message is sent as written, so Chinese() looks it up
		// as a format without verbs.
		english = strings.ReplaceAll(english, "%", "%%")
	}
	chinese, found := chineseFormats[english]
	if !found {
		t.Errorf("%s: no Chinese format for %q: add it to zh_config.go, zh_store.go, zh_portal.go or zh_detail.go", site.position, site.format)
		return
	}
	if err := compareVerbs(english, chinese); err != nil {
		t.Errorf("%s: Chinese format %q does not match %q: %v", site.position, chinese, english, err)
	}
}

// scanMessageSites parses the non-test files of scannedDirs and returns
// every constructor call and every FieldError or FieldIssue literal.
func scanMessageSites(t *testing.T) []messageSite {
	t.Helper()

	var sites []messageSite
	for _, dir := range scannedDirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			sites = append(sites, scanFile(t, path)...)
		}
	}
	return sites
}

func scanFile(t *testing.T, path string) []messageSite {
	t.Helper()

	fileSet := token.NewFileSet()
	file, err := parser.ParseFile(fileSet, path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}

	name := filepath.Base(path)
	var sites []messageSite
	ast.Inspect(file, func(node ast.Node) bool {
		switch typed := node.(type) {
		case *ast.CallExpr:
			if site, ok := callSite(fileSet, name, typed); ok {
				sites = append(sites, site)
			}
		case *ast.CompositeLit:
			if site, ok := literalSite(fileSet, name, typed, expressionText(fileSet, typed.Type)); ok {
				sites = append(sites, site)
			}
			sites = append(sites, elementSites(fileSet, name, typed)...)
		}
		return true
	})
	return sites
}

// callSite describes a call of a constructor in constructors.
func callSite(fileSet *token.FileSet, file string, call *ast.CallExpr) (messageSite, bool) {
	index, found := constructors[expressionText(fileSet, call.Fun)]
	if !found || len(call.Args) <= index {
		return messageSite{}, false
	}

	site := messageSite{position: fileSet.Position(call.Pos()).String(), key: file + ": " + expressionText(fileSet, call)}
	site.format, site.literal = stringLiteral(call.Args[index])
	return site, true
}

// elementSites describes the elements of a slice literal such as
// []FieldIssue{{Field: ..., Message: ...}}, whose element type is elided.
func elementSites(fileSet *token.FileSet, file string, literal *ast.CompositeLit) []messageSite {
	slice, ok := literal.Type.(*ast.ArrayType)
	if !ok {
		return nil
	}

	var sites []messageSite
	typeName := expressionText(fileSet, slice.Elt)
	for _, element := range literal.Elts {
		inner, ok := element.(*ast.CompositeLit)
		if !ok || inner.Type != nil {
			continue
		}
		if site, ok := literalSite(fileSet, file, inner, typeName); ok {
			sites = append(sites, site)
		}
	}
	return sites
}

// literalSite describes a FieldError, ConflictError, ForbiddenError or
// FieldIssue literal that sets Message. The constructor's own literal,
// which sets Format, is skipped.
func literalSite(fileSet *token.FileSet, file string, literal *ast.CompositeLit, typeName string) (messageSite, bool) {
	typeName = strings.TrimPrefix(typeName, "*")
	if !isMessageType(typeName) {
		return messageSite{}, false
	}

	var message ast.Expr
	for _, element := range literal.Elts {
		pair, ok := element.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch expressionText(fileSet, pair.Key) {
		case "Format":
			return messageSite{}, false
		case "Message":
			message = pair.Value
		}
	}
	if message == nil {
		return messageSite{}, false
	}

	site := messageSite{position: fileSet.Position(literal.Pos()).String(), key: file + ": Message: " + expressionText(fileSet, message), fixed: true}
	site.format, site.literal = stringLiteral(message)
	if typeName != "FieldIssue" && site.literal {
		// An error literal bypasses its constructor even when its
		// message is fixed.
		site.literal = false
	}
	return site, true
}

// isMessageType reports whether literals of typeName carry a message that
// the catalog must cover.
func isMessageType(typeName string) bool {
	for _, suffix := range []string{"FieldError", "ConflictError", "ForbiddenError"} {
		if strings.HasSuffix(typeName, suffix) {
			return true
		}
	}
	return typeName == "FieldIssue"
}

func stringLiteral(expression ast.Expr) (string, bool) {
	literal, ok := expression.(*ast.BasicLit)
	if !ok || literal.Kind != token.STRING {
		return "", false
	}
	value, err := strconv.Unquote(literal.Value)
	return value, err == nil
}

func expressionText(fileSet *token.FileSet, node ast.Node) string {
	if node == nil {
		return ""
	}
	var text bytes.Buffer
	if err := printer.Fprint(&text, fileSet, node); err != nil {
		return ""
	}
	return text.String()
}

func TestCatalogFormatsAreConsistent(t *testing.T) {
	sources := map[string]map[string]string{"config": configFormats, "store": storeFormats, "portal": portalFormats, "detail": detailFormats, "forms": formFormats, "schema": schemaFormats}
	first := make(map[string]string)
	for source, formats := range sources {
		for english, chinese := range formats {
			if err := compareVerbs(english, chinese); err != nil {
				t.Errorf("%s: Chinese format %q does not match %q: %v", source, chinese, english, err)
			}
			if chinese == english {
				t.Errorf("%s: format %q is not translated", source, english)
			}
			if earlier, found := first[english]; found && source != "schema" && earlier != chinese {
				t.Errorf("%s: %q has two translations, %q and %q", source, english, earlier, chinese)
			}
			if source != "schema" {
				first[english] = chinese
			}
		}
	}
}

// TestSchemaFormatsCoverJSONSchemaKinds reads the source of the jsonschema
// module that go.mod selects and checks that every keyword message format
// has a Chinese format.
func TestSchemaFormatsCoverJSONSchemaKinds(t *testing.T) {
	output, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/santhosh-tekuri/jsonschema/v6").Output()
	if err != nil {
		t.Fatalf("go list the jsonschema module: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(output)), "kind", "kind.go")
	source, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}

	fileSet := token.NewFileSet()
	file, err := parser.ParseFile(fileSet, path, source, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}

	count := 0
	ast.Inspect(file, func(node ast.Node) bool {
		call, ok := node.(*ast.CallExpr)
		if !ok || expressionText(fileSet, call.Fun) != "p.Sprintf" || len(call.Args) == 0 {
			return true
		}
		format, literal := stringLiteral(call.Args[0])
		if !literal {
			t.Errorf("%s: p.Sprintf has no literal format", fileSet.Position(call.Pos()))
			return true
		}
		count++
		if _, found := schemaFormats[format]; !found {
			t.Errorf("%s: no Chinese format for %q: add it to zh_schema.go", fileSet.Position(call.Pos()), format)
		}
		return true
	})
	if count < 40 {
		t.Errorf("found %d keyword formats in %s, want at least 40", count, path)
	}
}
