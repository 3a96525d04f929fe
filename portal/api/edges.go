package api

import (
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

// edgeView is an edge node in GET /api/v1/edges.
type edgeView struct {
	store.EdgeNode
	// Lag is the number of feed positions the edge has not applied yet.
	Lag int64 `json:"lag"`
	// SinceContact is the time since the last heartbeat, in seconds.
	SinceContact float64 `json:"since_contact_seconds"`
}

func (h *handlers) listEdges(c *fiber.Ctx) (int, any, error) {
	nodes, head, err := h.edgesAndHead(c)
	if err != nil {
		return failed(err)
	}

	views := make([]edgeView, 0, len(nodes))
	for _, node := range nodes {
		views = append(views, edgeView{
			EdgeNode:     node,
			Lag:          max(head-node.Position, 0),
			SinceContact: time.Since(node.LastSeenAt).Seconds(),
		})
	}
	return ok(map[string]any{"head": head, "edges": views})
}

func (h *handlers) edgesAndHead(c *fiber.Ctx) ([]store.EdgeNode, int64, error) {
	nodes, err := h.store.ListEdges(requestContext(c))
	if err != nil {
		return nil, 0, err
	}
	head, err := h.store.FeedHead(requestContext(c))
	if err != nil {
		return nil, 0, err
	}
	return nodes, head, nil
}

// edgePropagation is one edge in GET /api/v1/tenants/{slug}/propagation.
type edgePropagation struct {
	NodeID string `json:"node_id"`
	Region string `json:"region"`
	// Revision is the revision the edge holds, 0 when it holds none.
	Revision int64  `json:"revision"`
	State    string `json:"state"`
}

// regionPropagation counts the edges of one region.
type regionPropagation struct {
	Edges   int `json:"edges"`
	Serving int `json:"serving"`
	Ready   int `json:"ready"`
	Behind  int `json:"behind"`
}

func (h *handlers) propagation(c *fiber.Ctx) (int, any, error) {
	latest, err := h.store.LatestChange(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	nodes, _, err := h.edgesAndHead(c)
	if err != nil {
		return failed(err)
	}

	edges := make([]edgePropagation, 0, len(nodes))
	regions := map[string]*regionPropagation{}
	for _, node := range nodes {
		entry := propagationOf(node, latest)
		edges = append(edges, entry)
		countRegion(regions, entry)
	}

	return ok(map[string]any{
		"tenant":   latest.Tenant,
		"revision": latest.Revision,
		"position": latest.Position,
		"time":     latest.Time,
		"edges":    edges,
		"regions":  regions,
	})
}

func propagationOf(node store.EdgeNode, latest store.FeedEvent) edgePropagation {
	entry := edgePropagation{NodeID: node.NodeID, Region: node.Region, Revision: node.Revisions[latest.Tenant]}

	switch {
	case entry.Revision >= latest.Revision:
		entry.State = StateServing
	case entry.Revision == 0 && node.Position >= latest.Position:
		entry.State = StateReady
	default:
		entry.State = StateBehind
	}
	return entry
}

func countRegion(regions map[string]*regionPropagation, entry edgePropagation) {
	region := regions[entry.Region]
	if region == nil {
		region = &regionPropagation{}
		regions[entry.Region] = region
	}

	region.Edges++
	switch entry.State {
	case StateServing:
		region.Serving++
	case StateReady:
		region.Ready++
	default:
		region.Behind++
	}
}
