package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

func (h *handlers) registerAudit(v1 fiber.Router) {
	v1.Get("/audit", handle(h.auditLog))
	v1.Get("/tenants/:slug/audit", handle(h.tenantAuditLog))
}

// auditPage is one page of GET .../audit.
type auditPage struct {
	Events []store.AuditEvent `json:"events"`
	// NextAfter is the "after" of the next page: the last event's id, or the
	// request's "after" when the page is empty.
	NextAfter int64 `json:"next_after"`
}

func (h *handlers) auditLog(c *fiber.Ctx) (int, any, error) {
	after, limit, err := pageQuery(c)
	if err != nil {
		return failed(err)
	}
	events, err := h.store.AuditLog(requestContext(c), after, limit)
	if err != nil {
		return failed(err)
	}
	return ok(newAuditPage(events, after))
}

func (h *handlers) tenantAuditLog(c *fiber.Ctx) (int, any, error) {
	after, limit, err := pageQuery(c)
	if err != nil {
		return failed(err)
	}
	events, err := h.store.TenantAuditLog(requestContext(c), c.Params("slug"), after, limit)
	if err != nil {
		return failed(err)
	}
	return ok(newAuditPage(events, after))
}

func newAuditPage(events []store.AuditEvent, after int64) auditPage {
	page := auditPage{Events: events, NextAfter: after}
	if len(events) > 0 {
		page.NextAfter = events[len(events)-1].ID
	}
	return page
}

// pageQuery reads ?after= (default 0) and ?limit= (default
// store.DefaultAuditPage, at most store.MaxAuditPage).
func pageQuery(c *fiber.Ctx) (int64, int, error) {
	after := int64(0)
	if text := c.Query("after"); text != "" {
		value, err := strconv.ParseInt(text, 10, 64)
		if err != nil || value < 0 {
			return 0, 0, invalidFields([]FieldIssue{{Field: "after", Message: "after must be a non-negative integer: pass the next_after of the previous page"}})
		}
		after = value
	}

	limit := store.DefaultAuditPage
	if text := c.Query("limit"); text != "" {
		value, err := strconv.Atoi(text)
		if err != nil || value < 1 || value > store.MaxAuditPage {
			return 0, 0, config.Invalid("limit", "limit %q is not an integer from 1 to %d: send a page size in that range", text, store.MaxAuditPage)
		}
		limit = value
	}
	return after, limit, nil
}

// recordChange appends an audit event for each successful write: it reads
// the resource before the handler runs and takes the response as the state
// after it.
//
// NOTE: the event is appended after the change commits, in a transaction of
// its own, so a crash between the two loses the event, and the "before"
// read can miss a concurrent write. A failed append is logged as an error.
func (h *handlers) recordChange(c *fiber.Ctx) error {
	if !isWrite(c.Method()) {
		return c.Next()
	}

	before := h.snapshot(c)
	if err := c.Next(); err != nil {
		return err
	}

	status := c.Response().StatusCode()
	if status < 200 || status >= 300 {
		return nil
	}

	resource := c.Path()
	if location := string(c.Response().Header.Peek(fiber.HeaderLocation)); status == http.StatusCreated && location != "" {
		resource = location
	}

	var after json.RawMessage
	if status != http.StatusNoContent {
		after = h.auditJSON(c, resource, c.Response().Body())
	}

	who := principalOf(c)
	event := store.AuditEvent{
		Tenant:    tenantOfPath(resource),
		Actor:     who.actor(),
		ActorUser: who.user.ID,
		Method:    c.Method(),
		Resource:  resource,
		Status:    status,
		RequestID: requestID(c),
		Before:    before,
		After:     after,
	}
	if err := h.store.AppendAudit(context.WithoutCancel(requestContext(c)), event); err != nil {
		h.logger.Error("audit event lost", "request_id", requestID(c), "tenant", event.Tenant, "user", event.ActorUser, "error", err)
	}
	return nil
}

func isWrite(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// tenantOfPath returns the slug of a path below /api/v1/tenants/, or "".
func tenantOfPath(path string) string {
	rest, found := strings.CutPrefix(path, "/api/v1/tenants/")
	if !found {
		return ""
	}
	slug, _, _ := strings.Cut(rest, "/")
	return slug
}

// snapshot returns the JSON of the resource at the request's path before a
// change, redacted as auditJSON does, or nil when the path names no single
// resource or the resource does not exist.
func (h *handlers) snapshot(c *fiber.Ctx) json.RawMessage {
	if c.Method() == fiber.MethodPost {
		return nil
	}

	value, err := h.loadResource(c, strings.Split(strings.TrimPrefix(c.Path(), "/api/v1/"), "/"))
	if err != nil || value == nil {
		return nil
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return nil
	}
	return h.auditJSON(c, c.Path(), encoded)
}

// loadResource reads the resource that the path segments after /api/v1/
// name. It returns nil for a path of no known resource.
func (h *handlers) loadResource(c *fiber.Ctx, segments []string) (any, error) {
	ctx := requestContext(c)

	switch {
	case len(segments) == 2 && segments[0] == "tenants":
		return h.store.GetTenant(ctx, segments[1])
	case len(segments) == 4 && segments[0] == "tenants":
		return h.loadTenantResource(ctx, segments[1], segments[2], segments[3])
	case len(segments) == 2 && segments[0] == "tokens":
		return h.store.GetUserToken(ctx, principalOf(c).user.ID, segments[1])
	case len(segments) == 4 && segments[0] == "plugins" && segments[2] == "versions":
		return h.store.GetPluginVersion(ctx, segments[1], segments[3])
	case len(segments) == 2 && segments[0] == "edges":
		return h.store.GetEdge(ctx, segments[1])
	case len(segments) == 2 && segments[0] == "edge-tokens":
		return h.loadEdgeToken(ctx, segments[1])
	}
	return nil, nil
}

// loadEdgeToken returns the listed edge token whose id is the text, or nil.
func (h *handlers) loadEdgeToken(ctx context.Context, text string) (any, error) {
	tokens, err := h.store.ListEdgeTokens(ctx)
	if err != nil {
		return nil, err
	}
	for _, token := range tokens {
		if strconv.FormatUint(uint64(token.ID), 10) == text {
			return token, nil
		}
	}
	return nil, nil
}

func (h *handlers) loadTenantResource(ctx context.Context, slug, kind, name string) (any, error) {
	switch kind {
	case "upstreams":
		return h.store.GetUpstream(ctx, slug, name)
	case "routes":
		return h.store.GetRoute(ctx, slug, name)
	case "bindings":
		return h.store.GetBinding(ctx, slug, name)
	case "members":
		return h.store.GetMember(ctx, slug, name)
	case "consumers":
		return h.store.GetConsumer(ctx, slug, name)
	case "domains":
		return h.store.GetDomain(ctx, slug, name)
	}
	return nil, nil
}
