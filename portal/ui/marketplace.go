package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
)

// marketplaceData is the data of the marketplace page.
type marketplaceData struct {
	Plugins []pluginCard
	// Tenants are the tenants in which the session may bind plugins, and
	// Tenant the one to preselect.
	Tenants []string
	Tenant  string
}

// pluginCard is one published plugin: its description, from the README of
// its latest version, and its versions, latest first.
type pluginCard struct {
	Name        string
	Description string
	Versions    []string
}

func (s *server) marketplacePage(c *fiber.Ctx) error {
	current, found, err := s.requireSession(c)
	if err != nil || !found {
		return err
	}
	ctx := c.UserContext()

	plugins, err := s.store.ListPlugins(ctx)
	if err != nil {
		return err
	}
	data := marketplaceData{Tenant: c.Query("tenant")}
	for _, plugin := range plugins {
		card := pluginCard{Name: plugin.Name, Versions: slices.Clone(plugin.Versions)}
		slices.Reverse(card.Versions)
		if len(card.Versions) > 0 {
			latest, err := s.store.GetPluginVersion(ctx, plugin.Name, card.Versions[0])
			if err != nil {
				return err
			}
			card.Description = summary(latest.Readme)
		}
		data.Plugins = append(data.Plugins, card)
	}

	tenants, err := s.listTenants(ctx, current)
	if err != nil {
		return err
	}
	for _, tenant := range tenants {
		if tenant.Role.Allows(accounts.RoleDeveloper) {
			data.Tenants = append(data.Tenants, tenant.Slug)
		}
	}

	view := newPage(c, current, "marketplace.title")
	view.Tenant = data.Tenant
	view.Data = data
	return renderConsole(c, http.StatusOK, "marketplace", view)
}

// summary returns the first sentence of a Markdown README that is not a
// heading, without code marks, or "" for none.
func summary(readme string) string {
	var words []string
	for _, line := range strings.Split(readme, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || (line == "" && len(words) == 0) {
			continue
		}
		if line == "" {
			break
		}
		words = append(words, line)
	}

	paragraph := strings.ReplaceAll(strings.Join(words, " "), "`", "")
	if end := strings.Index(paragraph, ". "); end >= 0 {
		return paragraph[:end+1]
	}
	return paragraph
}

// bindFromMarketplace sends the marketplace's form to the binding form of
// the chosen tenant, or to its install form when the install button sent
// it.
func (s *server) bindFromMarketplace(c *fiber.Ctx) error {
	query := url.Values{"plugin": {c.Query("plugin")}, "version": {c.Query("version")}}
	if c.Query("action") == "install" {
		return seeOther(c, tenantURL(c.Query("tenant"), "installs")+"?"+query.Encode())
	}
	return seeOther(c, tenantURL(c.Query("tenant"), "bindings", "new")+"?"+query.Encode())
}
