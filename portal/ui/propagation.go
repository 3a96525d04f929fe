package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/api"
	"portcullis.dev/portal/store"
)

// timeLayout shows times in UTC on the pages.
const timeLayout = "2006-01-02 15:04:05 UTC"

// propagationView is the data of the propagation page.
type propagationView struct {
	T      webContent
	Switch string
	CSRF   string
	// Who is "operator" or the user's email.
	Who      string
	Operator bool
	Head     int64
	Edges    []edgeRow
	Tenants  []tenantBlock
}

// edgeRow is one line of the operator's edge table.
type edgeRow struct {
	NodeID      string
	Region      string
	LastContact string
	Lag         int64
	Healthy     string
	// Detail is the edge's health note, or the time since its last
	// heartbeat when that is above api.EdgeHeartbeatTimeout.
	Detail string
}

// tenantBlock is the propagation of one tenant's latest change.
type tenantBlock struct {
	Slug string
	// Found is false when the tenant has no change events yet.
	Found    bool
	Revision int64
	Time     string
	Regions  []regionRow
	Edges    []tenantEdgeRow
}

type regionRow struct {
	Region   string
	Serving  int
	Ready    int
	Behind   int
	Rejected int
}

type tenantEdgeRow struct {
	NodeID   string
	Region   string
	Revision int64
	State    string
	// Reason is the edge's error for a rejected latest revision, or empty.
	Reason string
}

func (s *server) propagationPage(c *fiber.Ctx) error {
	text := webText[language(c)]

	current, found, err := s.currentSession(c)
	if err != nil {
		return err
	}
	if !found {
		return c.Redirect("/login?lang="+url.QueryEscape(text.Lang), http.StatusSeeOther)
	}

	data, err := s.buildPropagation(c.UserContext(), current, text)
	if err != nil {
		return err
	}
	view := newPage(c, current, "propagation.title")
	view.Data = data
	return renderConsole(c, http.StatusOK, "propagation", view)
}

func (s *server) buildPropagation(ctx context.Context, current session, text webContent) (propagationView, error) {
	view := propagationView{
		T:        text,
		Switch:   switchURL("/ui/propagation", text),
		CSRF:     csrfToken(current.secret),
		Who:      current.user.Email,
		Operator: current.operator,
	}
	if current.operator {
		view.Who = text.Operator
		if err := s.addEdges(ctx, &view, text); err != nil {
			return propagationView{}, err
		}
	}

	slugs, err := s.visibleTenants(ctx, current)
	if err != nil {
		return propagationView{}, err
	}
	for _, slug := range slugs {
		block, err := s.tenantBlock(ctx, slug, text)
		if err != nil {
			return propagationView{}, err
		}
		view.Tenants = append(view.Tenants, block)
	}
	return view, nil
}

// addEdges fills the edge table, which only the operator can view, like
// GET /api/v1/edges.
func (s *server) addEdges(ctx context.Context, view *propagationView, text webContent) error {
	edges, head, err := api.ListEdgeViews(ctx, s.store)
	if err != nil {
		return err
	}

	view.Head = head
	for _, edge := range edges {
		view.Edges = append(view.Edges, newEdgeRow(edge, text))
	}
	return nil
}

// newEdgeRow returns the line of the edge table for the edge.
func newEdgeRow(edge api.EdgeView, text webContent) edgeRow {
	row := edgeRow{
		NodeID:      edge.NodeID,
		Region:      edge.Region,
		LastContact: fmt.Sprintf(text.SecondsAgo, int64(edge.SinceContact)),
		Lag:         edge.Lag,
		Healthy:     text.No,
		Detail:      edge.Detail,
	}
	if edge.Healthy {
		row.Healthy = text.Yes
	}
	switch {
	case edge.Stale:
		row.Detail = catalogs[text.Lang].Format("propagation.no_heartbeat", int64(edge.SinceContact))
	case edge.NodeIDConflict:
		row.Detail = catalogs[text.Lang].Format("propagation.node_id_conflict")
	case edgeDetails[edge.Detail] != "":
		row.Detail = catalogs[text.Lang].Format(edgeDetails[edge.Detail])
	}
	return row
}

// edgeDetails maps the details that edges of this release send in their
// heartbeats to message keys, so the page shows them in the reader's
// language. Other details show as the edge sent them.
var edgeDetails = map[string]string{
	"change feed connecting":   "propagation.feed_connecting",
	"change feed disconnected": "propagation.feed_disconnected",
}

// visibleTenants returns the slugs the session may see: every tenant for
// the operator, and a user's own tenants otherwise.
func (s *server) visibleTenants(ctx context.Context, current session) ([]string, error) {
	list := s.store.ListTenants
	if !current.operator {
		userID := current.user.ID
		list = func(ctx context.Context) ([]store.Tenant, error) { return s.store.ListTenantsOf(ctx, userID) }
	}

	tenants, err := list(ctx)
	if err != nil {
		return nil, err
	}
	slugs := make([]string, 0, len(tenants))
	for _, tenant := range tenants {
		slugs = append(slugs, tenant.Slug)
	}
	return slugs, nil
}

func (s *server) tenantBlock(ctx context.Context, slug string, text webContent) (tenantBlock, error) {
	result, err := api.TenantPropagation(ctx, s.store, slug)
	if isNotFound(err) {
		return tenantBlock{Slug: slug}, nil
	}
	if err != nil {
		return tenantBlock{}, err
	}

	block := tenantBlock{Slug: slug, Found: true, Revision: result.Revision, Time: result.Time.UTC().Format(timeLayout)}
	for _, edge := range result.Edges {
		block.Edges = append(block.Edges, tenantEdgeRow{NodeID: edge.NodeID, Region: edge.Region, Revision: edge.Revision, State: stateText(edge.State, text), Reason: edge.Reason})
	}
	for region, counts := range result.Regions {
		block.Regions = append(block.Regions, regionRow{Region: region, Serving: counts.Serving, Ready: counts.Ready, Behind: counts.Behind, Rejected: counts.Rejected})
	}
	sort.Slice(block.Regions, func(i, j int) bool { return block.Regions[i].Region < block.Regions[j].Region })
	return block, nil
}

// stateText returns the word for a propagation state in the page's language.
func stateText(state string, text webContent) string {
	if state == api.StateRejected {
		return catalogs[text.Lang].Get("propagation.state_rejected")
	}
	return text.States[state]
}
