package api

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/declarative"
	"portcullis.dev/portal/redact"
	"portcullis.dev/portal/store"
)

// auditJSON returns the copy of a resource's JSON that the audit log
// stores. A binding, and each binding step of a declarative apply, has its
// config redacted by its plugin version's config schema, as a viewer reads
// it. Anything else follows the name rule of redact.JSON.
func (h *handlers) auditJSON(c *fiber.Ctx, path string, body []byte) json.RawMessage {
	slug, kind := tenantResourceKind(path)
	switch kind {
	case "bindings":
		return h.auditBinding(c, h.store.BindingSchemas(slug), body)
	case "apply":
		return h.auditApplyResult(c, h.store.BindingSchemas(slug), body)
	}
	return redact.JSON(body)
}

// tenantResourceKind splits a path such as /api/v1/tenants/acme/bindings/ID
// into the tenant's slug and the kind of resource, "bindings" here. Both
// are empty for a path outside a tenant.
func tenantResourceKind(path string) (slug, kind string) {
	rest, found := strings.CutPrefix(path, "/api/v1/tenants/")
	if !found {
		return "", ""
	}
	slug, rest, _ = strings.Cut(rest, "/")
	kind, _, _ = strings.Cut(rest, "/")
	return slug, kind
}

// auditBinding redacts one binding's JSON. When its schema cannot be read,
// it logs the error and redacts the config by name alone, so that the
// event is still written.
func (h *handlers) auditBinding(c *fiber.Ctx, schemas *store.BindingSchemas, body []byte) json.RawMessage {
	var binding struct {
		Plugin  string `json:"plugin"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &binding); err != nil {
		return redact.JSON(body)
	}

	schema, err := schemas.Schema(requestContext(c), binding.Plugin, binding.Version)
	if err != nil {
		h.logger.Error("read config schema for the audit log failed: redacting the binding config by name", "request_id", requestID(c), "tenant", tenantOfPath(c.Path()), "plugin", binding.Plugin, "version", binding.Version, "error", err)
	}
	return redact.Binding(body, schema)
}

// auditApplyResult redacts the result of POST .../apply step by step.
func (h *handlers) auditApplyResult(c *fiber.Ctx, schemas *store.BindingSchemas, body []byte) json.RawMessage {
	var result declarative.Result
	if err := json.Unmarshal(body, &result); err != nil {
		return redact.JSON(body)
	}

	for i := range result.Steps {
		step := &result.Steps[i]
		isBinding := strings.HasPrefix(step.Resource, "binding/")
		step.Before = h.auditStepState(c, schemas, isBinding, step.Before)
		step.After = h.auditStepState(c, schemas, isBinding, step.After)
	}

	encoded, err := json.Marshal(result)
	if err != nil {
		return redact.JSON(body)
	}
	return encoded
}

func (h *handlers) auditStepState(c *fiber.Ctx, schemas *store.BindingSchemas, isBinding bool, state json.RawMessage) json.RawMessage {
	if len(state) == 0 {
		return nil
	}
	if isBinding {
		return h.auditBinding(c, schemas, state)
	}
	return redact.JSON(state)
}
