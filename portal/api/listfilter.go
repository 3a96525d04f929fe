package api

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// setFilteredNextLink adds a Link header with rel="next" (RFC 8288) when
// more items follow the page. The link keeps each non-empty value of
// filters under its query parameter name, so without filters it is the
// link that setNextLink sends.
func setFilteredNextLink(c *fiber.Ctx, page store.Page, more bool, last string, filters map[string]string) {
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
