package store

import (
	"encoding/json"
	"fmt"

	"portcullis.dev/tenants/config"
)

// hstsColumn encodes a route's HSTS policy for the hsts column: the JSON
// of config.HSTS, or "" for none.
func hstsColumn(hsts *config.HSTS) string {
	if hsts == nil {
		return ""
	}
	encoded, _ := json.Marshal(hsts) // A struct of ints and bools always encodes.
	return string(encoded)
}

// setRouteTLS copies a route's HTTPS redirect and HSTS fields to its row.
func setRouteTLS(row *routeRow, input *config.Route) {
	row.HTTPSRedirect = input.HTTPSRedirect
	row.HSTS = hstsColumn(input.HSTS)
}

// routeTLSColumns returns the update columns of a route's HTTPS redirect
// and HSTS fields.
func routeTLSColumns(input *config.Route) map[string]any {
	return map[string]any{"https_redirect": input.HTTPSRedirect, "hsts": hstsColumn(input.HSTS)}
}

// readRouteTLS copies the HTTPS redirect and HSTS columns to route.
func readRouteTLS(row *routeRow, route *config.Route) error {
	route.HTTPSRedirect = row.HTTPSRedirect
	if row.HSTS == "" {
		return nil
	}
	route.HSTS = &config.HSTS{}
	if err := json.Unmarshal([]byte(row.HSTS), route.HSTS); err != nil {
		return fmt.Errorf("decode hsts of route %q: %w", row.Name, err)
	}
	return nil
}
