package apiclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MaxListPages bounds the pages that List follows, so that a server which
// always sends a next link cannot keep the client in a loop.
const MaxListPages = 1000

// List sends GET path, then a GET of each page that a Link header with
// rel="next" (RFC 8288) names, and returns the items of every page in
// order. Each page must be a JSON array. A next link must stay on the
// scheme and host of BaseURL, because the request carries the token.
func List[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	items := []T{}
	target := c.url(path)

	for range MaxListPages {
		var page []T
		header, err := c.send(ctx, http.MethodGet, target, nil, &page)
		if err != nil {
			return nil, err
		}
		items = append(items, page...)

		next := nextLink(header.Values("Link"))
		if next == "" {
			return items, nil
		}
		if target, err = resolveNext(target, next); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("GET %s: more than %d pages: narrow the list or raise ?limit=", path, MaxListPages)
}

// nextLink returns the target of the first link with rel="next" in Link
// header values, or "" for none.
func nextLink(values []string) string {
	for _, value := range values {
		for _, link := range strings.Split(value, ",") {
			target, params, found := strings.Cut(strings.TrimSpace(link), ";")
			if !found || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			if hasRelNext(params) {
				return strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">")
			}
		}
	}
	return ""
}

// hasRelNext reports whether link parameters such as ` rel="next"` include
// the relation type next.
func hasRelNext(params string) bool {
	for _, param := range strings.Split(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		if !strings.EqualFold(name, "rel") {
			continue
		}
		for _, relation := range strings.Fields(strings.Trim(value, `"`)) {
			if strings.EqualFold(relation, "next") {
				return true
			}
		}
	}
	return false
}

// resolveNext resolves a next link against the URL of the page that sent
// it and rejects one that leaves that page's scheme and host.
func resolveNext(current, next string) (string, error) {
	base, err := url.Parse(current)
	if err != nil {
		return "", fmt.Errorf("parse page URL %q: %w", current, err)
	}
	reference, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("next link %q of %s is not a URL: %w", next, current, err)
	}

	resolved := base.ResolveReference(reference)
	if resolved.Scheme != base.Scheme || resolved.Host != base.Host {
		return "", fmt.Errorf("next link %q of %s leaves %s://%s: the portal must link to its own pages", next, current, base.Scheme, base.Host)
	}
	return resolved.String(), nil
}
