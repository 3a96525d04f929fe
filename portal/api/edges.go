package api

import (
	"context"
	"fmt"
	"strconv"
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

// EdgeHeartbeatTimeout is how long after its last heartbeat an edge still
// counts as healthy: 5 heartbeats at the edge's default interval of 2 s
// (DefaultHeartbeat in portcullis.dev/edge/sync).
//
// NOTE: an edge configured with a heartbeat interval above this limit
// shows as not healthy between its heartbeats.
const EdgeHeartbeatTimeout = 10 * time.Second

func (h *handlers) registerEdges(v1 fiber.Router) {
	v1.Get("/edge-tokens", handle(h.listEdgeTokens))
	v1.Post("/edge-tokens", handle(h.createEdgeToken))
	v1.Delete("/edge-tokens/:id", handle(h.deleteEdgeToken))
	v1.Get("/edges", handle(h.listEdges))
	v1.Delete("/edges/:node_id", handle(h.deleteEdge))
	v1.Get("/tenants/:slug/propagation", handle(h.propagation))
}

// createdEdgeToken is the body of POST /api/v1/edge-tokens, the one
// response that contains the token.
type createdEdgeToken struct {
	ID        uint      `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Token     string    `json:"token"`
}

func (h *handlers) createEdgeToken(c *fiber.Ctx) (int, any, error) {
	record, token, err := h.store.CreateEdgeToken(requestContext(c))
	if err != nil {
		return failed(err)
	}
	location := "/api/v1/edge-tokens/" + strconv.FormatUint(uint64(record.ID), 10)
	return created(c, location, createdEdgeToken{ID: record.ID, CreatedAt: record.CreatedAt, Token: token})
}

func (h *handlers) listEdgeTokens(c *fiber.Ctx) (int, any, error) {
	tokens, err := h.store.ListEdgeTokens(requestContext(c))
	if err != nil {
		return failed(err)
	}
	return ok(tokens)
}

func (h *handlers) deleteEdgeToken(c *fiber.Ctx) (int, any, error) {
	text := c.Params("id")
	id, err := strconv.ParseUint(text, 10, strconv.IntSize)
	if err != nil {
		return failed(&store.NotFoundError{Resource: "edge token", Name: text})
	}
	if err := h.store.DeleteEdgeToken(requestContext(c), uint(id)); err != nil {
		return failed(err)
	}
	return noContent()
}

func (h *handlers) deleteEdge(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteEdge(requestContext(c), c.Params("node_id")); err != nil {
		return failed(err)
	}
	return noContent()
}

// EdgeView is an edge node in GET /api/v1/edges.
type EdgeView struct {
	store.EdgeNode
	// Lag is the number of feed positions the edge has not applied yet.
	Lag int64 `json:"lag"`
	// SinceContact is the time since the last heartbeat, in seconds.
	SinceContact float64 `json:"since_contact_seconds"`
	// Stale is true when the last heartbeat is older than
	// EdgeHeartbeatTimeout. Healthy is then false and Detail gives the time
	// since that heartbeat, in place of what the edge last reported.
	// Healthy is false too while NodeIDConflict is set, and Detail then
	// names the conflict.
	Stale bool `json:"stale"`
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

	now := time.Now()
	views := make([]EdgeView, 0, len(nodes))
	for _, node := range nodes {
		views = append(views, newEdgeView(node, head, now))
	}
	return views, head, nil
}

// newEdgeView returns the view of the node at the time now. The stored
// report stays as it is.
func newEdgeView(node store.EdgeNode, head int64, now time.Time) EdgeView {
	silence := now.Sub(node.LastSeenAt)
	view := EdgeView{
		EdgeNode:     node,
		Lag:          max(head-node.Position, 0),
		SinceContact: silence.Seconds(),
	}
	if silence > EdgeHeartbeatTimeout {
		view.Stale = true
		view.Healthy = false
		view.Detail = fmt.Sprintf("no heartbeat for %d s, above the limit of %d s", int64(silence.Seconds()), int64(EdgeHeartbeatTimeout.Seconds()))
		return view
	}
	if node.NodeIDConflict {
		view.Healthy = false
		view.Detail = fmt.Sprintf("two edge processes report node id %q: give each edge its own --node-id", node.NodeID)
	}
	return view
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
