package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/redact"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// audit appends the event of a change made through a page. The resource is
// the change's API path, so the log reads the same whichever way the change
// came. before and after are nil when there is no state, and their secrets
// are redacted. A failed append is logged, like the API does.
func (s *server) audit(c *fiber.Ctx, current session, method, resource string, before, after any) {
	actor := current.user.Email
	if current.operator {
		actor = "operator"
	}

	status := http.StatusOK
	switch {
	case method == fiber.MethodPost:
		status = http.StatusCreated
	case method == fiber.MethodDelete:
		status = http.StatusNoContent
	}

	tenant := tenantOfResource(resource)
	event := store.AuditEvent{
		Tenant:    tenant,
		Actor:     actor,
		ActorUser: current.user.ID,
		Method:    method,
		Resource:  resource,
		Status:    status,
		RequestID: requestID(c),
		Before:    s.auditJSON(c, tenant, before),
		After:     s.auditJSON(c, tenant, after),
	}
	if err := s.store.AppendAudit(context.WithoutCancel(c.UserContext()), event); err != nil {
		s.logger.Error("audit event lost", "request_id", requestID(c), "tenant", event.Tenant, "user", event.ActorUser, "error", err)
	}
}

func tenantOfResource(resource string) string {
	rest, found := strings.CutPrefix(resource, "/api/v1/tenants/")
	if !found {
		return ""
	}
	slug, _, _ := strings.Cut(rest, "/")
	return slug
}

// auditJSON returns value as JSON with every secret replaced, or nil. A
// config.Binding has its config redacted by its plugin version's config
// schema, like the API's audit log does. When that schema cannot be read,
// the error is logged and the config is redacted by name alone.
func (s *server) auditJSON(c *fiber.Ctx, tenant string, value any) json.RawMessage {
	binding, isBinding := value.(config.Binding)
	if !isBinding {
		return redacted(value)
	}
	encoded, err := json.Marshal(binding)
	if err != nil {
		return nil
	}

	schema, err := s.store.BindingSchemas(tenant).Schema(c.UserContext(), binding.Plugin, binding.Version)
	if err != nil {
		s.logger.Error("read config schema for the audit log failed: redacting the binding config by name", "request_id", requestID(c), "tenant", tenant, "plugin", binding.Plugin, "version", binding.Version, "error", err)
	}
	return redact.Binding(encoded, schema)
}

// redacted returns value as JSON with every secret replaced, or nil.
func redacted(value any) json.RawMessage {
	if value == nil {
		return nil
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return nil
	}

	// NOTE: json.Unmarshal decodes numbers as float64, so an integer above
	// 2^53 is stored rounded. redact.JSON(encoded) would keep its digits.
	var generic any
	if err := json.Unmarshal(encoded, &generic); err != nil {
		return nil
	}
	encoded, err = json.Marshal(redact.Value(generic))
	if err != nil {
		return nil
	}
	return encoded
}

// auditData is the data of the audit log page.
type auditData struct {
	Events []auditRow
	// Next is the "after" of the next page, 0 when this page is the last.
	Next int64
}

type auditRow struct {
	ID       int64
	Time     string
	Actor    string
	Method   string
	Resource string
	Status   int
}

// auditPageSize is the number of events on one page of the audit log.
const auditPageSize = 50

func (s *server) auditPage(c *fiber.Ctx, view pageView) error {
	after, err := strconv.ParseInt(c.Query("after", "0"), 10, 64)
	if err != nil || after < 0 {
		after = 0
	}

	events, err := s.store.TenantAuditLog(c.UserContext(), view.Tenant, after, auditPageSize)
	if err != nil {
		return s.showFailure(c, view, err)
	}

	var data auditData
	for _, event := range events {
		data.Events = append(data.Events, auditRow{
			ID: event.ID, Time: event.Time.UTC().Format(timeLayout), Actor: event.Actor,
			Method: event.Method, Resource: event.Resource, Status: event.Status,
		})
	}
	if len(events) == auditPageSize {
		data.Next = events[len(events)-1].ID
	}

	view.Data = data
	return renderConsole(c, http.StatusOK, "audit", view)
}
