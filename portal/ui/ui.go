// Package ui serves the portal's web page: a short introduction to
// Portcullis in English and Simplified Chinese.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed templates/index.html
var templates embed.FS

var indexTemplate = template.Must(template.ParseFS(templates, "templates/index.html"))

// Languages of the page, as BCP 47 tags.
const (
	English           = "en"
	SimplifiedChinese = "zh-CN"
)

// Register adds GET / to the app.
func Register(app *fiber.App) {
	app.Get("/", servePage)
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
