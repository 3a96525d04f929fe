// Package ui serves the portal's web pages in English and Simplified
// Chinese: a short introduction to Portcullis, the sign-in forms, and the
// propagation of each tenant's config to the edges.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/api"
	"portcullis.dev/portal/store"
)

//go:embed templates/*.html
var templates embed.FS

var (
	indexTemplate = template.Must(template.ParseFS(templates, "templates/index.html"))
	// webTemplates are the sign-in and propagation pages with their shared
	// layout.
	webTemplates = template.Must(template.New("web").Funcs(template.FuncMap{"pageHead": pageHead}).
			ParseFS(templates, "templates/layout.html", "templates/login.html", "templates/propagation.html"))
)

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
}

// server holds what the signed-in pages share.
type server struct {
	store      *store.Store
	isOperator func(sent string) bool
	limits     *api.LoginLimits
	logger     *slog.Logger
}

// Register adds GET /, the sign-in pages GET and POST /login, POST /logout,
// and GET /ui/propagation to the app.
func Register(app *fiber.App, opts Options) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	limits := opts.Limits
	if limits == nil {
		limits = api.NewLoginLimits()
	}
	s := &server{store: opts.Store, isOperator: operatorCheck(opts.AdminToken), limits: limits, logger: logger}

	app.Get("/", servePage)
	app.Get("/login", s.loginPage)
	app.Post("/login", s.login)
	app.Post("/logout", s.logout)
	app.Get("/ui/propagation", s.propagationPage)
}

func servePage(c *fiber.Ctx) error {
	lang := chooseLanguage(c.Query("lang"), c.Get(fiber.HeaderAcceptLanguage))
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

	for _, tag := range parseAcceptLanguage(acceptLanguage) {
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		switch primary {
		case "zh":
			return SimplifiedChinese
		case "en":
			return English
		}
	}
	return English
}

// parseAcceptLanguage returns the language ranges of an Accept-Language
// header, highest weight first, without those of weight 0.
func parseAcceptLanguage(header string) []string {
	type weighted struct {
		tag    string
		weight float64
	}
	var ranges []weighted

	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		weight := 1.0
		if value, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			parsed, err := strconv.ParseFloat(value, 64)
			if err != nil {
				continue
			}
			weight = parsed
		}
		if tag == "" || weight <= 0 {
			continue
		}
		ranges = append(ranges, weighted{tag: strings.TrimSpace(tag), weight: weight})
	}

	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].weight > ranges[j].weight })
	tags := make([]string, 0, len(ranges))
	for _, r := range ranges {
		tags = append(tags, r.tag)
	}
	return tags
}

// headView is the data of the shared page head and language switch.
type headView struct {
	T      webContent
	Title  string
	Switch string
}

func pageHead(text webContent, title, switchURL string) headView {
	return headView{T: text, Title: title, Switch: switchURL}
}
