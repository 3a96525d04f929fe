package api

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// listPage reads ?limit= (default store.DefaultPageSize, at most
// store.MaxPageSize) and ?after= (the last key of the previous page).
func listPage(c *fiber.Ctx) (store.Page, error) {
	page := store.Page{After: c.Query("after"), Limit: store.DefaultPageSize}

	if text := c.Query("limit"); text != "" {
		value, err := strconv.Atoi(text)
		if err != nil || value < 1 || value > store.MaxPageSize {
			return store.Page{}, config.Invalid("limit", "limit %q is not an integer from 1 to %d: send a page size in that range", text, store.MaxPageSize)
		}
		page.Limit = value
	}
	return page, nil
}

// setNextLink adds a Link header with rel="next" (RFC 8288) when more items
// follow the page. last is the key of the page's last item, and the link
// keeps each non-empty filter under its query parameter name.
func setNextLink(c *fiber.Ctx, page store.Page, more bool, last string, filters map[string]string) {
	if !more {
		return
	}

	query := url.Values{}
	query.Set("limit", strconv.Itoa(page.Limit))
	query.Set("after", last)
	for name, value := range filters {
		if value != "" {
			query.Set(name, value)
		}
	}
	c.Set(fiber.HeaderLink, "<"+c.Path()+"?"+query.Encode()+">; rel=\"next\"")
}
