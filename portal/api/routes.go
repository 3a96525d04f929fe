package api

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// listRoutes returns one page of routes: ?limit= and ?after= as listPage
// reads them, and ?name= to keep the routes whose name contains it.
func (h *handlers) listRoutes(c *fiber.Ctx) (int, any, error) {
	page, err := listPage(c)
	if err != nil {
		return failed(err)
	}
	filter := store.RouteFilter{NameContains: c.Query("name")}
	if len(filter.NameContains) > config.MaxNameLength {
		return failed(config.Invalid("name", "name filter is %d bytes long: use at most %d", len(filter.NameContains), config.MaxNameLength))
	}

	routes, more, err := h.store.ListRoutePage(requestContext(c), c.Params("slug"), page, filter)
	if err != nil {
		return failed(err)
	}
	if len(routes) > 0 {
		setNextLink(c, page, more, routes[len(routes)-1].Name, map[string]string{"name": filter.NameContains})
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
