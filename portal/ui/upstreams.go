package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/tenants/config"
)

// upstreamsData is the data of the upstream list and form pages.
type upstreamsData struct {
	Upstreams []config.Upstream
	// Form holds the values of the create or edit form.
	Form upstreamForm
}

// upstreamForm is the upstream form: Targets has one target a line, the
// URL and an optional weight.
type upstreamForm struct {
	// Editing is the name of the upstream being edited, empty to create.
	Editing string
	Name    string
	Targets string
}

func (s *server) upstreamsPage(c *fiber.Ctx, view pageView) error {
	return s.renderUpstreams(c, view, http.StatusOK, upstreamForm{})
}

func (s *server) renderUpstreams(c *fiber.Ctx, view pageView, status int, form upstreamForm) error {
	upstreams, err := s.store.ListUpstreams(c.UserContext(), view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	view.Data = upstreamsData{Upstreams: upstreams, Form: form}
	return renderConsole(c, status, "upstreams", view)
}

func (s *server) editUpstreamPage(c *fiber.Ctx, view pageView) error {
	upstream, err := s.store.GetUpstream(c.UserContext(), view.Tenant, c.Params("name"))
	if err != nil {
		return s.showFailure(c, view, err)
	}
	view.Data = upstreamsData{Form: upstreamForm{Editing: upstream.Name, Name: upstream.Name, Targets: formatTargets(upstream.Targets)}}
	return renderConsole(c, http.StatusOK, "upstream_edit", view)
}

func formatTargets(targets []config.Target) string {
	lines := make([]string, 0, len(targets))
	for _, target := range targets {
		lines = append(lines, fmt.Sprintf("%s %d", target.URL, target.Weight))
	}
	return strings.Join(lines, "\n")
}

// parseTargets reads one target a line: a URL and an optional weight,
// which defaults to 1. A weight that is not an integer is a field error;
// the store validates the rest.
func parseTargets(text string) ([]config.Target, error) {
	targets := []config.Target{}
	for _, line := range splitLines(text) {
		fields := strings.Fields(line)
		target := config.Target{URL: fields[0], Weight: 1}
		if len(fields) > 1 {
			weight, err := strconv.Atoi(fields[1])
			if err != nil || len(fields) > 2 {
				field := fmt.Sprintf("targets[%d].weight", len(targets))
				return nil, config.Invalid(field, "line %q is not a URL and an integer weight: write one target a line, such as http://10.0.0.5:8080 1", line)
			}
			target.Weight = weight
		}
		targets = append(targets, target)
	}
	return targets, nil
}

// splitLines returns the non-blank lines of text, trimmed.
func splitLines(text string) []string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

func (s *server) createUpstream(c *fiber.Ctx, view pageView) error {
	form := upstreamForm{Name: strings.TrimSpace(c.FormValue("name")), Targets: c.FormValue("targets")}
	ctx := c.UserContext()

	targets, err := parseTargets(form.Targets)
	var upstream config.Upstream
	if err == nil {
		upstream, err = s.store.CreateUpstream(ctx, view.Tenant, config.Upstream{Name: form.Name, Targets: targets})
	}
	if err != nil {
		return s.upstreamFailed(c, view, form, err)
	}

	s.audit(c, view.session, "POST", apiTenantPath(view.Tenant, "upstreams", upstream.Name), nil, upstream)
	return seeOther(c, tenantURL(view.Tenant, "upstreams"))
}

// updateUpstream changes the targets of an upstream and keeps its other
// fields as they are. The store rejects a changed name.
func (s *server) updateUpstream(c *fiber.Ctx, view pageView) error {
	name := c.Params("name")
	form := upstreamForm{Editing: name, Name: strings.TrimSpace(c.FormValue("name")), Targets: c.FormValue("targets")}
	ctx := c.UserContext()

	before, err := s.store.GetUpstream(ctx, view.Tenant, name)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	targets, err := parseTargets(form.Targets)
	var after config.Upstream
	if err == nil {
		changed := before
		changed.Name, changed.Targets = form.Name, targets
		after, err = s.store.UpdateUpstream(ctx, view.Tenant, name, changed)
	}
	if err != nil {
		return s.upstreamFailed(c, view, form, err)
	}

	s.audit(c, view.session, "PUT", apiTenantPath(view.Tenant, "upstreams", name), before, after)
	return seeOther(c, tenantURL(view.Tenant, "upstreams"))
}

func (s *server) upstreamFailed(c *fiber.Ctx, view pageView, form upstreamForm, err error) error {
	failure, status, err := problemOf(c, err)
	if err != nil {
		return err
	}
	view.Error = failure
	if form.Editing != "" {
		view.Data = upstreamsData{Form: form}
		return renderConsole(c, status, "upstream_edit", view)
	}
	return s.renderUpstreams(c, view, status, form)
}

func (s *server) deleteUpstream(c *fiber.Ctx, view pageView) error {
	name := c.Params("name")
	ctx := c.UserContext()

	before, err := s.store.GetUpstream(ctx, view.Tenant, name)
	if err == nil {
		err = s.store.DeleteUpstream(ctx, view.Tenant, name)
	}
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderUpstreams(c, view, status, upstreamForm{})
	}

	s.audit(c, view.session, "DELETE", apiTenantPath(view.Tenant, "upstreams", name), before, nil)
	return seeOther(c, tenantURL(view.Tenant, "upstreams"))
}

// apiTenantPath returns the API path of a tenant's resource, as the audit
// log names it.
func apiTenantPath(slug string, rest ...string) string {
	return "/api/v1" + strings.TrimPrefix(tenantURL(slug, rest...), "/ui")
}
