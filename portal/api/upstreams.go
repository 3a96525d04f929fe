package api

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// listUpstreams returns one page of upstreams: ?limit= and ?after= as
// listPage reads them, and ?name= to keep the upstreams whose name
// contains it.
func (h *handlers) listUpstreams(c *fiber.Ctx) (int, any, error) {
	page, err := listPage(c)
	if err != nil {
		return failed(err)
	}
	filter := store.UpstreamFilter{NameContains: c.Query("name")}
	if len(filter.NameContains) > config.MaxNameLength {
		return failed(config.Invalid("name", "name filter is %d bytes long: use at most %d", len(filter.NameContains), config.MaxNameLength))
	}

	upstreams, more, err := h.store.ListUpstreamPage(requestContext(c), c.Params("slug"), page, filter)
	if err != nil {
		return failed(err)
	}
	if len(upstreams) > 0 {
		setNextLink(c, page, more, upstreams[len(upstreams)-1].Name, map[string]string{"name": filter.NameContains})
	}
	return ok(upstreams)
}

func (h *handlers) createUpstream(c *fiber.Ctx) (int, any, error) {
	var input config.Upstream
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	slug := c.Params("slug")
	upstream, err := h.store.CreateUpstream(requestContext(c), slug, input)
	if err != nil {
		return failed(err)
	}
	return created(c, tenantPath(slug)+"/upstreams/"+url.PathEscape(upstream.Name), upstream)
}

func (h *handlers) getUpstream(c *fiber.Ctx) (int, any, error) {
	upstream, err := h.store.GetUpstream(requestContext(c), c.Params("slug"), c.Params("name"))
	if err != nil {
		return failed(err)
	}
	return ok(upstream)
}

func (h *handlers) updateUpstream(c *fiber.Ctx) (int, any, error) {
	var input config.Upstream
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	upstream, err := h.store.UpdateUpstream(requestContext(c), c.Params("slug"), c.Params("name"), input)
	if err != nil {
		return failed(err)
	}
	return ok(upstream)
}

func (h *handlers) deleteUpstream(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteUpstream(requestContext(c), c.Params("slug"), c.Params("name")); err != nil {
		return failed(err)
	}
	return noContent()
}
