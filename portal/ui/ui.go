// Package ui serves the portal's web pages in English and Simplified
// Chinese: a short introduction to Portcullis, sign-up and sign-in, the
// console that manages tenants, upstreams, routes, consumers and plugin
// bindings, the plugin marketplace, the audit log, and the propagation of
// each tenant's config to the edges.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/api"
	"portcullis.dev/portal/store"
)

//go:embed templates/*.html
var templates embed.FS

var indexTemplate = template.Must(template.ParseFS(templates, "templates/index.html"))

// Languages of the page, as BCP 47 tags.
const (
	English           = "en"
	SimplifiedChinese = "zh-CN"
)

// Options configures the signed-in pages.
type Options struct {
	Store *store.Store
	// AdminToken is the operator token, which the operator's sign-in form
	// takes.
	AdminToken string
	// Limits are the login limits, shared with the API.
	Limits *api.LoginLimits
	// Logger receives sign-ins and sign-outs. Nil discards them.
	Logger *slog.Logger
	// LookupTXT reads the TXT records of domain verifications, such as the
	// lookup of api.NewTXTLookup. Nil means the system resolver.
	LookupTXT store.TXTLookup
}

// server holds what the signed-in pages share.
type server struct {
	store      *store.Store
	isOperator func(sent string) bool
	limits     *api.LoginLimits
	logger     *slog.Logger
	lookupTXT  store.TXTLookup
}

// Register adds GET /, the sign-up and sign-in pages, POST /logout, and the
// console pages below /ui to the app.
func Register(app *fiber.App, opts Options) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	limits := opts.Limits
	if limits == nil {
		limits = api.NewLoginLimits()
	}
	lookupTXT := opts.LookupTXT
	if lookupTXT == nil {
		lookupTXT = net.DefaultResolver.LookupTXT
	}
	s := &server{store: opts.Store, isOperator: operatorCheck(opts.AdminToken), limits: limits, logger: logger, lookupTXT: lookupTXT}

	app.Get("/", servePage)
	app.Get("/login", s.loginPage)
	app.Post("/login", s.login)
	app.Get("/signup", s.signupPage)
	app.Post("/signup", s.signup)
	app.Post("/logout", s.logout)
	app.Get("/ui/propagation", s.propagationPage)
	app.Get("/ui/tenants", s.tenantsPage)
	app.Post("/ui/tenants", s.createTenant)
	app.Get("/ui/marketplace", s.marketplacePage)
	app.Get("/ui/marketplace/bind", s.bindFromMarketplace)
	app.Get("/ui/namespaces", s.namespacesPage)
	app.Post("/ui/namespaces", s.createNamespace)
	s.registerTenantPages(app)
}

// registerTenantPages adds the pages below /ui/tenants/{slug}. Each takes
// the role that the matching API request takes.
func (s *server) registerTenantPages(app *fiber.App) {
	viewer, developer, admin := accounts.RoleViewer, accounts.RoleDeveloper, accounts.RoleAdmin
	tenant := app.Group("/ui/tenants/:slug")

	tenant.Get("", s.tenantPage("dashboard.title", viewer, s.dashboardPage))

	tenant.Get("/upstreams", s.tenantPage("upstreams.title", viewer, s.upstreamsPage))
	tenant.Post("/upstreams", s.tenantPage("upstreams.title", developer, s.createUpstream))
	tenant.Get("/upstreams/:name/edit", s.tenantPage("upstreams.edit", developer, s.editUpstreamPage))
	tenant.Post("/upstreams/:name", s.tenantPage("upstreams.edit", developer, s.updateUpstream))
	tenant.Post("/upstreams/:name/delete", s.tenantPage("upstreams.title", developer, s.deleteUpstream))

	tenant.Get("/routes", s.tenantPage("routes.title", viewer, s.routesPage))
	tenant.Post("/routes", s.tenantPage("routes.title", developer, s.createRoute))
	tenant.Get("/routes/:name/edit", s.tenantPage("routes.edit", developer, s.editRoutePage))
	tenant.Post("/routes/:name", s.tenantPage("routes.edit", developer, s.updateRoute))
	tenant.Post("/routes/:name/delete", s.tenantPage("routes.title", developer, s.deleteRoute))

	tenant.Get("/consumers", s.tenantPage("consumers.title", viewer, s.consumersPage))
	tenant.Post("/consumers", s.tenantPage("consumers.title", developer, s.createConsumer))
	tenant.Get("/consumers/:name", s.tenantPage("consumer.title", viewer, s.consumerPage))
	tenant.Post("/consumers/:name/delete", s.tenantPage("consumers.title", developer, s.deleteConsumer))
	tenant.Post("/consumers/:name/credentials", s.tenantPage("consumer.title", developer, s.createCredential))
	tenant.Post("/consumers/:name/credentials/:id/delete", s.tenantPage("consumer.title", developer, s.deleteCredential))

	tenant.Get("/bindings", s.tenantPage("bindings.title", viewer, s.bindingsPage))
	tenant.Get("/bindings/new", s.tenantPage("bindings.new", developer, s.newBindingPage))
	tenant.Post("/bindings", s.tenantPage("bindings.new", developer, s.createBinding))
	tenant.Get("/bindings/:id/edit", s.tenantPage("bindings.edit", developer, s.editBindingPage))
	tenant.Post("/bindings/:id", s.tenantPage("bindings.edit", developer, s.updateBinding))
	tenant.Post("/bindings/:id/delete", s.tenantPage("bindings.title", developer, s.deleteBinding))

	tenant.Get("/installs", s.tenantPage("installs.title", viewer, s.installsPage))
	tenant.Post("/installs", s.tenantPage("installs.title", developer, s.saveInstall))
	tenant.Post("/installs/rollback", s.tenantPage("installs.title", developer, s.rollbackInstall))
	tenant.Post("/installs/delete", s.tenantPage("installs.title", developer, s.deleteInstall))

	tenant.Get("/domains", s.tenantPage("domains.title", viewer, s.domainsPage))
	tenant.Post("/domains", s.tenantPage("domains.title", developer, s.createDomain))
	tenant.Post("/domains/:hostname/delete", s.tenantPage("domains.title", developer, s.deleteDomain))
	tenant.Post("/domains/:hostname/verify", s.tenantPage("domains.title", developer, s.verifyDomain))
	tenant.Post("/domains/:hostname/certificate", s.tenantPage("domains.title", developer, s.uploadCertificate))

	tenant.Get("/members", s.tenantPage("members.title", viewer, s.membersPage))
	tenant.Post("/members", s.tenantPage("members.title", admin, s.addMember))
	tenant.Post("/members/:user", s.tenantPage("members.title", admin, s.changeMember))
	tenant.Post("/members/:user/delete", s.tenantPage("members.title", admin, s.removeMember))

	tenant.Get("/settings", s.tenantPage("settings.title", viewer, s.settingsPage))
	tenant.Post("/settings", s.tenantPage("settings.title", admin, s.updateSettings))
	tenant.Post("/delete", s.tenantPage("settings.title", accounts.RoleOwner, s.deleteTenant))

	tenant.Get("/audit", s.tenantPage("audit.title", admin, s.auditPage))
}

func servePage(c *fiber.Ctx) error {
	lang := language(c)
	text := pageText[lang]

	var page bytes.Buffer
	if err := indexTemplate.Execute(&page, text); err != nil {
		return fmt.Errorf("render index page in %s: %w", lang, err)
	}

	c.Set(fiber.HeaderContentLanguage, lang)
	c.Vary(fiber.HeaderAcceptLanguage)
	c.Type("html", "utf-8")
	return c.Send(page.Bytes())
}

// chooseLanguage returns the page language. A valid ?lang= wins. Otherwise
// the Accept-Language range with the highest weight among English and any
// Chinese decides, and "zh", "zh-TW" and the other Chinese ranges all map to
// zh-CN. The default is English.
func chooseLanguage(query, acceptLanguage string) string {
	switch query {
	case English, SimplifiedChinese:
		return query
	}

	for _, languageRange := range api.ParseAcceptLanguage(acceptLanguage) {
		primary, _, _ := strings.Cut(strings.ToLower(languageRange.Tag), "-")
		switch primary {
		case "zh":
			return SimplifiedChinese
		case "en":
			return English
		}
	}
	return English
}
