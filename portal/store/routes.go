package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"gorm.io/gorm"

	"portcullis.dev/tenants/config"
)

func findRoute(tx *gorm.DB, tenant *tenantRow, name string) (*routeRow, error) {
	var row routeRow
	result := scoped(tx, tenant).Where("name = ?", name).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read route %q of tenant %q: %w", name, tenant.Slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "route", Name: name}
	}
	return &row, nil
}

// upstreamNames maps the ids of the tenant's upstreams to their names.
func upstreamNames(tx *gorm.DB, tenant *tenantRow) (map[uint]string, error) {
	var rows []upstreamRow
	if err := scoped(tx, tenant).Select("id", "name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list upstream names of tenant %q: %w", tenant.Slug, err)
	}

	names := make(map[uint]string, len(rows))
	for _, row := range rows {
		names[row.ID] = row.Name
	}
	return names, nil
}

func routeFromRow(row *routeRow, upstream string) (config.Route, error) {
	route := config.Route{Name: row.Name, Paths: []string{}, Methods: []string{}, Upstream: upstream}
	if err := json.Unmarshal([]byte(row.Paths), &route.Paths); err != nil {
		return config.Route{}, fmt.Errorf("decode paths of route %q: %w", row.Name, err)
	}
	if err := json.Unmarshal([]byte(row.Methods), &route.Methods); err != nil {
		return config.Route{}, fmt.Errorf("decode methods of route %q: %w", row.Name, err)
	}
	if err := readRouteTLS(row, &route); err != nil {
		return config.Route{}, err
	}
	if err := readRouteSettings(row, &route); err != nil {
		return config.Route{}, err
	}
	return route, nil
}

// routeSettings is the JSON form of the settings column.
type routeSettings struct {
	Hosts        []string         `json:"hosts,omitempty"`
	Headers      []config.Matcher `json:"headers,omitempty"`
	Query        []config.Matcher `json:"query,omitempty"`
	Priority     int              `json:"priority,omitempty"`
	MaxBodyBytes int64            `json:"max_body_bytes,omitempty"`
	Timeouts     config.Timeouts  `json:"timeouts,omitzero"`
}

func readRouteSettings(row *routeRow, route *config.Route) error {
	if row.Settings == "" {
		return nil
	}

	var settings routeSettings
	if err := json.Unmarshal([]byte(row.Settings), &settings); err != nil {
		return fmt.Errorf("decode settings of route %q: %w", row.Name, err)
	}
	route.Hosts, route.Headers, route.Query = settings.Hosts, settings.Headers, settings.Query
	route.Priority, route.MaxBodyBytes = settings.Priority, settings.MaxBodyBytes
	route.Timeouts = settings.Timeouts
	return nil
}

// encodeRouteSettings returns the settings column of a validated route.
func encodeRouteSettings(route *config.Route) (string, error) {
	return encodeJSON(routeSettings{
		Hosts:        route.Hosts,
		Headers:      route.Headers,
		Query:        route.Query,
		Priority:     route.Priority,
		MaxBodyBytes: route.MaxBodyBytes,
		Timeouts:     route.Timeouts,
	})
}

// routeColumns validates a route and encodes its list columns.
func routeColumns(input *config.Route) (paths, methods string, err error) {
	if input.Methods == nil {
		input.Methods = []string{}
	}
	if err := input.Validate(); err != nil {
		return "", "", err
	}

	if paths, err = encodeJSON(input.Paths); err != nil {
		return "", "", err
	}
	if methods, err = encodeJSON(input.Methods); err != nil {
		return "", "", err
	}
	return paths, methods, nil
}

// findRouteUpstream resolves the upstream that a route names. A missing
// upstream is an invalid field of the route.
func findRouteUpstream(tx *gorm.DB, tenant *tenantRow, name string) (*upstreamRow, error) {
	upstream, err := findUpstream(tx, tenant, name)
	if isNotFound(err) {
		return nil, fieldError("upstream", "upstream %q not found in tenant %q: create it first or name an existing upstream", name, tenant.Slug)
	}
	return upstream, err
}

// CreateRoute adds a route to the tenant. Its upstream must exist.
func (s *Store) CreateRoute(ctx context.Context, slug string, input config.Route) (config.Route, error) {
	paths, methods, err := routeColumns(&input)
	if err != nil {
		return config.Route{}, err
	}
	settings, err := encodeRouteSettings(&input)
	if err != nil {
		return config.Route{}, err
	}

	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		_, err := findRoute(tx, tenant, input.Name)
		if err == nil {
			return change{}, conflict("route %q already exists in tenant %q: choose another name or update it with PUT", input.Name, slug)
		}
		if !isNotFound(err) {
			return change{}, err
		}

		upstream, err := findRouteUpstream(tx, tenant, input.Upstream)
		if err != nil {
			return change{}, err
		}

		row := routeRow{TenantID: tenant.ID, Name: input.Name, Paths: paths, Methods: methods, Settings: settings, UpstreamID: upstream.ID}
		setRouteTLS(&row, &input)
		if err := tx.Create(&row).Error; err != nil {
			return change{}, fmt.Errorf("create route %q of tenant %q: %w", input.Name, slug, err)
		}
		return change{kind: KindCreate, resource: "route/" + input.Name}, nil
	})
	if err != nil {
		return config.Route{}, err
	}
	return input, nil
}

// RouteFilter selects routes of a list. The zero value selects all.
type RouteFilter struct {
	// NameContains keeps the routes whose name contains it, compared
	// without case.
	NameContains string
}

// ListRoutes returns every route of the tenant ordered by name.
func (s *Store) ListRoutes(ctx context.Context, slug string) ([]config.Route, error) {
	routes, _, err := s.ListRoutePage(ctx, slug, Page{}, RouteFilter{})
	return routes, err
}

// ListRoutePage returns one page of the tenant's routes ordered by name,
// and whether more follow.
func (s *Store) ListRoutePage(ctx context.Context, slug string, page Page, filter RouteFilter) ([]config.Route, bool, error) {
	routes := []config.Route{}
	more := false

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		names, err := upstreamNames(tx, tenant)
		if err != nil {
			return err
		}

		query := scoped(tx, tenant)
		if filter.NameContains != "" {
			query = query.Where("LOWER(name) LIKE ? ESCAPE '!'", containsPattern(strings.ToLower(filter.NameContains)))
		}
		var rows []routeRow
		if err := page.apply(query, "name").Find(&rows).Error; err != nil {
			return fmt.Errorf("list routes of tenant %q: %w", slug, err)
		}
		rows, more = trimPage(rows, page)

		for i := range rows {
			route, err := routeFromRow(&rows[i], names[rows[i].UpstreamID])
			if err != nil {
				return err
			}
			routes = append(routes, route)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return routes, more, nil
}

// containsPattern returns a LIKE pattern, with "!" as the escape
// character, that matches text anywhere.
func containsPattern(text string) string {
	return "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(text) + "%"
}

func listRoutes(tx *gorm.DB, tenant *tenantRow) ([]config.Route, error) {
	names, err := upstreamNames(tx, tenant)
	if err != nil {
		return nil, err
	}

	var rows []routeRow
	if err := scoped(tx, tenant).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list routes of tenant %q: %w", tenant.Slug, err)
	}

	routes := make([]config.Route, 0, len(rows))
	for i := range rows {
		route, err := routeFromRow(&rows[i], names[rows[i].UpstreamID])
		if err != nil {
			return nil, err
		}
		routes = append(routes, route)
	}
	return routes, nil
}

// GetRoute returns one route of the tenant.
func (s *Store) GetRoute(ctx context.Context, slug, name string) (config.Route, error) {
	var route config.Route

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		row, err := findRoute(tx, tenant, name)
		if err != nil {
			return err
		}
		names, err := upstreamNames(tx, tenant)
		if err != nil {
			return err
		}
		route, err = routeFromRow(row, names[row.UpstreamID])
		return err
	})
	return route, err
}

// UpdateRoute replaces a route's paths, methods and upstream. The name
// cannot change: an empty input.Name means the same name.
func (s *Store) UpdateRoute(ctx context.Context, slug, name string, input config.Route) (config.Route, error) {
	if input.Name == "" {
		input.Name = name
	}
	if input.Name != name {
		return config.Route{}, fieldError("name", "name %q differs from %q in the path: a name cannot change, so create a new route instead", input.Name, name)
	}
	paths, methods, err := routeColumns(&input)
	if err != nil {
		return config.Route{}, err
	}
	settings, err := encodeRouteSettings(&input)
	if err != nil {
		return config.Route{}, err
	}

	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findRoute(tx, tenant, name)
		if err != nil {
			return change{}, err
		}
		upstream, err := findRouteUpstream(tx, tenant, input.Upstream)
		if err != nil {
			return change{}, err
		}

		columns := map[string]any{"paths": paths, "methods": methods, "settings": settings, "upstream_id": upstream.ID}
		maps.Copy(columns, routeTLSColumns(&input))
		if err := tx.Model(row).Updates(columns).Error; err != nil {
			return change{}, fmt.Errorf("update route %q of tenant %q: %w", name, slug, err)
		}
		return change{kind: KindUpdate, resource: "route/" + name}, nil
	})
	if err != nil {
		return config.Route{}, err
	}
	return input, nil
}

// DeleteRoute deletes a route that no binding uses.
func (s *Store) DeleteRoute(ctx context.Context, slug, name string) error {
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findRoute(tx, tenant, name)
		if err != nil {
			return change{}, err
		}

		var bindings []string
		err = scoped(tx.Model(&bindingRow{}), tenant).Where("route_id = ?", row.ID).Order("id").Pluck("public_id", &bindings).Error
		if err != nil {
			return change{}, fmt.Errorf("find bindings of route %q in tenant %q: %w", name, slug, err)
		}
		if len(bindings) > 0 {
			return change{}, conflictWith(quoteAll("binding", bindings), "route %q is in use: delete these bindings or move them to another route first", name)
		}

		if err := tx.Delete(row).Error; err != nil {
			return change{}, fmt.Errorf("delete route %q of tenant %q: %w", name, slug, err)
		}
		return change{kind: KindDelete, resource: "route/" + name}, nil
	})
	return err
}
