package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/tenants/config"
)

// routeMethods are the methods that the route form offers as check boxes.
var routeMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// routesData is the data of the route list and form pages.
type routesData struct {
	Routes []config.Route
	// Upstreams are the names the form offers.
	Upstreams []string
	Methods   []string
	Form      routeForm
}

// routeForm is the route form. Paths has one path prefix a line; no method
// checked means every method.
type routeForm struct {
	// Editing is the name of the route being edited, empty to create.
	Editing  string
	Name     string
	Paths    string
	Methods  []string
	Upstream string
}

// Checked reports whether the form has the method checked.
func (f routeForm) Checked(method string) bool {
	return slices.Contains(f.Methods, method)
}

func (s *server) routesPage(c *fiber.Ctx, view pageView) error {
	return s.renderRoutes(c, view, http.StatusOK, routeForm{}, "routes")
}

func (s *server) editRoutePage(c *fiber.Ctx, view pageView) error {
	route, err := s.store.GetRoute(c.UserContext(), view.Tenant, c.Params("name"))
	if err != nil {
		return s.showFailure(c, view, err)
	}
	form := routeForm{Editing: route.Name, Name: route.Name, Paths: strings.Join(route.Paths, "\n"), Methods: route.Methods, Upstream: route.Upstream}
	return s.renderRoutes(c, view, http.StatusOK, form, "route_edit")
}

// renderRoutes renders the route list ("routes") or the edit page
// ("route_edit"), both with the upstream names for the form.
func (s *server) renderRoutes(c *fiber.Ctx, view pageView, status int, form routeForm, page string) error {
	ctx := c.UserContext()
	routes, err := s.store.ListRoutes(ctx, view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	upstreams, err := s.store.ListUpstreams(ctx, view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}

	names := make([]string, 0, len(upstreams))
	for _, upstream := range upstreams {
		names = append(names, upstream.Name)
	}
	view.Data = routesData{Routes: routes, Upstreams: names, Methods: routeMethods, Form: form}
	return renderConsole(c, status, page, view)
}

// readRouteForm reads the posted route form.
func readRouteForm(c *fiber.Ctx) routeForm {
	form := routeForm{
		Name:     strings.TrimSpace(c.FormValue("name")),
		Paths:    c.FormValue("paths"),
		Upstream: c.FormValue("upstream"),
	}
	for _, method := range routeMethods {
		if c.FormValue("method_"+method) != "" {
			form.Methods = append(form.Methods, method)
		}
	}
	return form
}

func (s *server) createRoute(c *fiber.Ctx, view pageView) error {
	form := readRouteForm(c)
	input := config.Route{Name: form.Name, Paths: splitLines(form.Paths), Methods: form.Methods, Upstream: form.Upstream}

	route, err := s.store.CreateRoute(c.UserContext(), view.Tenant, input)
	if err != nil {
		return s.routeFailed(c, view, form, err, "routes")
	}

	s.audit(c, view.session, "POST", apiTenantPath(view.Tenant, "routes", route.Name), nil, route)
	return seeOther(c, tenantURL(view.Tenant, "routes"))
}

// updateRoute changes the fields that the form shows and keeps the route's
// other fields as they are.
func (s *server) updateRoute(c *fiber.Ctx, view pageView) error {
	name := c.Params("name")
	form := readRouteForm(c)
	form.Editing = name
	ctx := c.UserContext()

	before, err := s.store.GetRoute(ctx, view.Tenant, name)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	changed := before
	changed.Name, changed.Paths, changed.Methods, changed.Upstream = form.Name, splitLines(form.Paths), form.Methods, form.Upstream

	after, err := s.store.UpdateRoute(ctx, view.Tenant, name, changed)
	if err != nil {
		return s.routeFailed(c, view, form, err, "route_edit")
	}

	s.audit(c, view.session, "PUT", apiTenantPath(view.Tenant, "routes", name), before, after)
	return seeOther(c, tenantURL(view.Tenant, "routes"))
}

func (s *server) routeFailed(c *fiber.Ctx, view pageView, form routeForm, err error, page string) error {
	failure, status, err := problemOf(c, err)
	if err != nil {
		return err
	}
	view.Error = failure
	return s.renderRoutes(c, view, status, form, page)
}

func (s *server) deleteRoute(c *fiber.Ctx, view pageView) error {
	name := c.Params("name")
	ctx := c.UserContext()

	before, err := s.store.GetRoute(ctx, view.Tenant, name)
	if err == nil {
		err = s.store.DeleteRoute(ctx, view.Tenant, name)
	}
	if err != nil {
		return s.routeFailed(c, view, routeForm{}, err, "routes")
	}

	s.audit(c, view.session, "DELETE", apiTenantPath(view.Tenant, "routes", name), before, nil)
	return seeOther(c, tenantURL(view.Tenant, "routes"))
}
