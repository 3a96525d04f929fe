package api

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/tenants/config"
)

func (h *handlers) listRoutes(c *fiber.Ctx) (int, any, error) {
	routes, err := h.store.ListRoutes(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	return ok(routes)
}

func (h *handlers) createRoute(c *fiber.Ctx) (int, any, error) {
	var input config.Route
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	slug := c.Params("slug")
	route, err := h.store.CreateRoute(requestContext(c), slug, input)
	if err != nil {
		return failed(err)
	}
	return created(c, tenantPath(slug)+"/routes/"+url.PathEscape(route.Name), route)
}

func (h *handlers) getRoute(c *fiber.Ctx) (int, any, error) {
	route, err := h.store.GetRoute(requestContext(c), c.Params("slug"), c.Params("name"))
	if err != nil {
		return failed(err)
	}
	return ok(route)
}

func (h *handlers) updateRoute(c *fiber.Ctx) (int, any, error) {
	var input config.Route
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	route, err := h.store.UpdateRoute(requestContext(c), c.Params("slug"), c.Params("name"), input)
	if err != nil {
		return failed(err)
	}
	return ok(route)
}

func (h *handlers) deleteRoute(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteRoute(requestContext(c), c.Params("slug"), c.Params("name")); err != nil {
		return failed(err)
	}
	return noContent()
}
