package api

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/declarative"
	"portcullis.dev/portal/redact"
	"portcullis.dev/tenants/config"
)

// exportConfig serves GET .../export: the tenant's whole config as a
// declarative document. Readers below developer see binding secrets
// redacted, as in the binding list.
func (h *handlers) exportConfig(c *fiber.Ctx) (int, any, error) {
	doc, err := declarative.Export(requestContext(c), h.store, c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	if err := h.redactForReader(c, doc.Bindings); err != nil {
		return failed(err)
	}
	return ok(doc)
}

// applyConfig serves POST .../apply: it makes the tenant's config match the
// document in the body, in one revision, or with ?dry_run=true only
// reports the steps it would take.
func (h *handlers) applyConfig(c *fiber.Ctx) (int, any, error) {
	dryRun, err := strconv.ParseBool(c.Query("dry_run", "false"))
	if err != nil {
		return failed(config.Invalid("dry_run", "dry_run %q is not a boolean: use true or false", c.Query("dry_run")))
	}

	var doc declarative.Document
	if err := decodeJSON(c, &doc); err != nil {
		return failed(err)
	}

	if err := checkNotRedacted(doc.Bindings); err != nil {
		return failed(err)
	}

	opts := declarative.Options{DryRun: dryRun, AllowTrusted: principalOf(c).operator}
	result, err := declarative.Apply(requestContext(c), h.store, c.Params("slug"), &doc, opts)
	if err != nil {
		return failed(err)
	}
	return ok(result)
}

// checkNotRedacted rejects a binding config that holds the placeholder of
// a viewer's export, so that applying such an export cannot overwrite the
// stored secrets with the placeholder.
func checkNotRedacted(bindings []config.Binding) error {
	for i, binding := range bindings {
		var value any
		if json.Unmarshal(binding.Config, &value) != nil {
			continue
		}
		if path, found := findRedacted(value, fmt.Sprintf("bindings[%d].config", i)); found {
			return config.Invalid(path, "the value is %q, the placeholder of an export read by a viewer: put the real value in, or export as a developer", redact.Placeholder)
		}
	}
	return nil
}

// findRedacted returns the path of the first string below value that is
// the redaction placeholder.
func findRedacted(value any, path string) (string, bool) {
	switch typed := value.(type) {
	case string:
		return path, typed == redact.Placeholder
	case map[string]any:
		for key, inner := range typed {
			if found, ok := findRedacted(inner, path+"."+key); ok {
				return found, true
			}
		}
	case []any:
		for i, inner := range typed {
			if found, ok := findRedacted(inner, fmt.Sprintf("%s[%d]", path, i)); ok {
				return found, true
			}
		}
	}
	return "", false
}
