package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// Propagation states of one edge for a tenant's latest change.
const (
	// StateServing: the edge holds the tenant at the latest revision or newer.
	StateServing = "serving"
	// StateReady: the edge does not hold the tenant but has applied the
	// change, so its first request loads the latest revision.
	StateReady = "ready"
	// StateBehind: the edge holds an older revision, or has not applied the
	// change yet.
	StateBehind = "behind"
	// StateRejected: the latest revision failed to compile or pre-flight on
	// the edge, which keeps serving the revision it holds.
	StateRejected = "rejected"
)

func (h *handlers) registerEdges(v1 fiber.Router) {
	v1.Post("/edge-tokens", handle(h.createEdgeToken))
	v1.Get("/edges", handle(h.listEdges))
	v1.Get("/tenants/:slug/propagation", handle(h.propagation))
}

func (h *handlers) createEdgeToken(c *fiber.Ctx) (int, any, error) {
	token, err := h.store.CreateEdgeToken(requestContext(c))
	if err != nil {
		return failed(err)
	}
	return http.StatusCreated, map[string]string{"token": token}, nil
}

// EdgeView is an edge node in GET /api/v1/edges.
type EdgeView struct {
	store.EdgeNode
	// Lag is the number of feed positions the edge has not applied yet.
	Lag int64 `json:"lag"`
	// SinceContact is the time since the last heartbeat, in seconds.
	SinceContact float64 `json:"since_contact_seconds"`
}

func (h *handlers) listEdges(c *fiber.Ctx) (int, any, error) {
	views, head, err := ListEdgeViews(requestContext(c), h.store)
	if err != nil {
		return failed(err)
	}
	return ok(map[string]any{"head": head, "edges": views})
}

// ListEdgeViews returns every edge node with its lag, and the feed head:
// the data of GET /api/v1/edges, which the web UI shows too.
func ListEdgeViews(ctx context.Context, st *store.Store) ([]EdgeView, int64, error) {
	nodes, head, err := edgesAndHead(ctx, st)
	if err != nil {
		return nil, 0, err
	}

	views := make([]EdgeView, 0, len(nodes))
	for _, node := range nodes {
		views = append(views, EdgeView{
			EdgeNode:     node,
			Lag:          max(head-node.Position, 0),
			SinceContact: time.Since(node.LastSeenAt).Seconds(),
		})
	}
	return views, head, nil
}

func edgesAndHead(ctx context.Context, st *store.Store) ([]store.EdgeNode, int64, error) {
	nodes, err := st.ListEdges(ctx)
	if err != nil {
		return nil, 0, err
	}
	head, err := st.FeedHead(ctx)
	if err != nil {
		return nil, 0, err
	}
	return nodes, head, nil
}

// EdgePropagation is one edge in GET /api/v1/tenants/{slug}/propagation.
type EdgePropagation struct {
	NodeID string `json:"node_id"`
	Region string `json:"region"`
	// Revision is the revision the edge holds, 0 when it holds none.
	Revision int64  `json:"revision"`
	State    string `json:"state"`
	// Reason is the edge's one-line error for the rejected revision, set
	// only in StateRejected.
	Reason string `json:"reason,omitempty"`
}

// RegionPropagation counts the edges of one region.
type RegionPropagation struct {
	Edges    int `json:"edges"`
	Serving  int `json:"serving"`
	Ready    int `json:"ready"`
	Behind   int `json:"behind"`
	Rejected int `json:"rejected"`
}

// Propagation is the body of GET /api/v1/tenants/{slug}/propagation: how
// far the tenant's latest change has reached the edges.
type Propagation struct {
	Tenant   string            `json:"tenant"`
	Revision int64             `json:"revision"`
	Position int64             `json:"position"`
	Time     time.Time         `json:"time"`
	Edges    []EdgePropagation `json:"edges"`
	// Regions maps each region to the counts of its edges.
	Regions map[string]*RegionPropagation `json:"regions"`
}

func (h *handlers) propagation(c *fiber.Ctx) (int, any, error) {
	result, err := TenantPropagation(requestContext(c), h.store, c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	return ok(result)
}

// TenantPropagation returns the state of every edge for the tenant's latest
// change, or a store.NotFoundError when the slug has no change events.
func TenantPropagation(ctx context.Context, st *store.Store, slug string) (Propagation, error) {
	latest, err := st.LatestChange(ctx, slug)
	if err != nil {
		return Propagation{}, err
	}
	nodes, _, err := edgesAndHead(ctx, st)
	if err != nil {
		return Propagation{}, err
	}

	result := Propagation{
		Tenant:   latest.Tenant,
		Revision: latest.Revision,
		Position: latest.Position,
		Time:     latest.Time,
		Edges:    make([]EdgePropagation, 0, len(nodes)),
		Regions:  map[string]*RegionPropagation{},
	}
	for _, node := range nodes {
		entry := propagationOf(node, latest)
		result.Edges = append(result.Edges, entry)
		countRegion(result.Regions, entry)
	}
	return result, nil
}

func propagationOf(node store.EdgeNode, latest store.FeedEvent) EdgePropagation {
	entry := EdgePropagation{NodeID: node.NodeID, Region: node.Region, Revision: node.Revisions[latest.Tenant]}

	rejection, rejected := node.Rejected[latest.Tenant]
	switch {
	case entry.Revision >= latest.Revision:
		entry.State = StateServing
	case rejected && rejection.Revision >= latest.Revision:
		entry.State = StateRejected
		entry.Reason = rejection.Reason
	case entry.Revision == 0 && node.Position >= latest.Position:
		entry.State = StateReady
	default:
		entry.State = StateBehind
	}
	return entry
}

func countRegion(regions map[string]*RegionPropagation, entry EdgePropagation) {
	region := regions[entry.Region]
	if region == nil {
		region = &RegionPropagation{}
		regions[entry.Region] = region
	}

	region.Edges++
	switch entry.State {
	case StateServing:
		region.Serving++
	case StateReady:
		region.Ready++
	case StateRejected:
		region.Rejected++
	default:
		region.Behind++
	}
}
