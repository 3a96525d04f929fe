package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// Limits of the edge sync API.
const (
	// MaxFeedWait is the longest long-poll wait that GET /edge/changes
	// accepts.
	MaxFeedWait = 30 * time.Second
	// StreamLifetime is how long one change stream stays open before the
	// portal ends it and the edge reconnects with its last position. It
	// stays below the server's 15 s write timeout, which would cut a
	// longer response.
	StreamLifetime = 10 * time.Second
	// streamKeepAlive is the interval of SSE comments on an idle stream.
	streamKeepAlive = 3 * time.Second
	// streamQueryTimeout bounds one feed query of a stream.
	streamQueryTimeout = 5 * time.Second
)

const localEdgeTokenID = "portcullis.edge_token_id"

// edgeNamePattern limits node ids and region names to what is safe in logs,
// metrics and URLs.
var edgeNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// registerEdgeSync adds the endpoints that edges call with an enrollment
// token. They must be registered before the operator group so that the
// operator check never runs for them.
func (h *handlers) registerEdgeSync(app *fiber.App) {
	// The token check is per route: a Group middleware on "/api/v1/edge"
	// would also match "/api/v1/edge-tokens" because Fiber matches Use
	// prefixes by string.
	app.Post("/api/v1/edge/heartbeat", h.requireEdgeToken, handle(h.edgeHeartbeat))
	app.Get("/api/v1/edge/changes", h.requireEdgeToken, handle(h.edgeChanges))
	app.Get("/api/v1/edge/changes/stream", h.requireEdgeToken, h.edgeChangeStream)
	app.Get("/api/v1/edge/tenants/:slug/bundle", h.requireEdgeToken, handle(h.edgeBundle))
}

// requireEdgeToken rejects a request without a valid edge enrollment token.
func (h *handlers) requireEdgeToken(c *fiber.Ctx) error {
	scheme, token, found := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return newProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized",
			"missing bearer token: send the header Authorization: Bearer <edge token>")
	}

	id, err := h.store.EdgeTokenID(requestContext(c), strings.TrimSpace(token))
	if errors.Is(err, store.ErrNotFound) {
		return newProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized",
			"invalid edge token: create one with POST /api/v1/edge-tokens")
	}
	if err != nil {
		return err
	}

	c.Locals(localEdgeTokenID, id)
	return c.Next()
}

func (h *handlers) edgeHeartbeat(c *fiber.Ctx) (int, any, error) {
	var report store.EdgeReport
	if err := decodeJSON(c, &report); err != nil {
		return failed(err)
	}
	if err := validateReport(&report); err != nil {
		return failed(err)
	}

	tokenID, _ := c.Locals(localEdgeTokenID).(uint)
	conflict, err := h.store.RecordHeartbeat(requestContext(c), tokenID, report)
	if err != nil {
		return failed(err)
	}

	head, err := h.store.FeedHead(requestContext(c))
	if err != nil {
		return failed(err)
	}
	return ok(heartbeatAnswer{Head: head, NodeIDConflict: conflict})
}

// heartbeatAnswer is the body of POST /api/v1/edge/heartbeat.
type heartbeatAnswer struct {
	// Head is the newest position of the change feed.
	Head int64 `json:"head"`
	// NodeIDConflict is true while another edge process reports the same
	// node id (store.EdgeNode.NodeIDConflict).
	NodeIDConflict bool `json:"node_id_conflict"`
}

func validateReport(report *store.EdgeReport) error {
	var issues []error
	if !edgeNamePattern.MatchString(report.NodeID) {
		issues = append(issues, config.Invalid("node_id", "node_id must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"))
	}
	if report.NodeID == store.AllInOneNodeID {
		issues = append(issues, config.Invalid("node_id", "node_id %q is reserved for the edge inside the all-in-one process: start this edge with another --node-id", store.AllInOneNodeID))
	}
	if !edgeNamePattern.MatchString(report.Region) {
		issues = append(issues, config.Invalid("region", "region must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"))
	}
	if report.Position < 0 {
		issues = append(issues, config.Invalid("position", "position must not be negative"))
	}
	if err := store.ValidatePluginErrors(report.PluginErrors); err != nil {
		issues = append(issues, err)
	}
	if err := store.ValidateRejected(report.Rejected); err != nil {
		issues = append(issues, err)
	}
	if err := store.ValidateInstance(report.Instance); err != nil {
		issues = append(issues, err)
	}
	return errors.Join(issues...)
}

// feedPage is the body of GET /api/v1/edge/changes.
type feedPage struct {
	Events []store.FeedEvent `json:"events"`
	// Position is the position to pass as "after" next time.
	Position int64 `json:"position"`
}

func (h *handlers) edgeChanges(c *fiber.Ctx) (int, any, error) {
	after, err := queryInt(c, "after", 0)
	if err != nil {
		return failed(err)
	}
	limit, err := queryInt(c, "limit", store.MaxFeedBatch)
	if err != nil {
		return failed(err)
	}
	wait, err := queryWait(c)
	if err != nil {
		return failed(err)
	}

	ctx, cancel := context.WithTimeout(requestContext(c), wait)
	defer cancel()

	for {
		woken := h.feed.Wait()
		events, err := h.store.Changes(requestContext(c), after, int(limit))
		if err != nil {
			return failed(err)
		}
		if len(events) > 0 || wait == 0 {
			return ok(newFeedPage(events, after))
		}

		select {
		case <-woken:
			if h.feed.Closed() {
				return ok(newFeedPage(nil, after))
			}
		case <-ctx.Done():
			return ok(newFeedPage(nil, after))
		}
	}
}

func newFeedPage(events []store.FeedEvent, after int64) feedPage {
	page := feedPage{Events: events, Position: after}
	if events == nil {
		page.Events = []store.FeedEvent{}
	}
	if len(events) > 0 {
		page.Position = events[len(events)-1].Position
	}
	return page
}

// edgeChangeStream sends change events as Server-Sent Events. Each event's
// id is its feed position, so a client resumes with Last-Event-ID or
// ?after=. The stream ends after StreamLifetime or at shutdown.
func (h *handlers) edgeChangeStream(c *fiber.Ctx) error {
	after, err := streamStart(c)
	if err != nil {
		return writeProblem(c, err)
	}

	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")

	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		h.streamChanges(w, after)
	})
	return nil
}

func streamStart(c *fiber.Ctx) (int64, error) {
	if last := c.Get("Last-Event-ID"); last != "" {
		position, err := strconv.ParseInt(last, 10, 64)
		if err != nil || position < 0 {
			return 0, config.Invalid("Last-Event-ID", "Last-Event-ID %q is not a feed position: send the id of the last event you applied", last)
		}
		return position, nil
	}
	return queryInt(c, "after", 0)
}

// streamChanges writes events until the lifetime ends, the client goes away
// (a flush fails) or the feed closes.
func (h *handlers) streamChanges(w *bufio.Writer, after int64) {
	deadline := time.Now().Add(StreamLifetime)

	// A first comment shows the client that the stream is open.
	if _, err := w.WriteString(": open\n\n"); err != nil || w.Flush() != nil {
		return
	}

	for time.Now().Before(deadline) && !h.feed.Closed() {
		woken := h.feed.Wait()

		next, err := h.writeEvents(w, after)
		if err != nil {
			return
		}
		if next != after {
			after = next
			continue
		}

		wait := min(streamKeepAlive, time.Until(deadline))
		select {
		case <-woken:
		case <-time.After(wait):
			if _, err := w.WriteString(": keep-alive\n\n"); err != nil || w.Flush() != nil {
				return
			}
		}
	}
}

// writeEvents writes the events after the position and returns the new
// position. An error means the client or the database is gone.
func (h *handlers) writeEvents(w *bufio.Writer, after int64) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), streamQueryTimeout)
	defer cancel()

	events, err := h.store.Changes(ctx, after, store.MaxFeedBatch)
	if err != nil {
		h.logger.Warn("change stream query failed; ending the stream", "position", after, "error", err)
		return after, err
	}

	for _, event := range events {
		data, err := json.Marshal(event)
		if err != nil {
			return after, err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", event.Position, data); err != nil {
			return after, err
		}
		after = event.Position
	}
	if len(events) > 0 {
		return after, w.Flush()
	}
	return after, nil
}

func (h *handlers) edgeBundle(c *fiber.Ctx) (int, any, error) {
	minRevision, err := queryInt(c, "min_revision", 0)
	if err != nil {
		return failed(err)
	}

	b, err := h.store.Bundle(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	if b.Revision < minRevision {
		c.Set(fiber.HeaderRetryAfter, "1")
		return failed(newProblem(http.StatusServiceUnavailable, "revision-not-visible", "Revision not visible yet",
			fmt.Sprintf("tenant %q is at revision %d here, below the requested %d: retry shortly", b.Tenant, b.Revision, minRevision)))
	}

	c.Set("X-Portcullis-Bundle-Hash", b.Hash)
	return ok(b)
}

func queryInt(c *fiber.Ctx, name string, fallback int64) (int64, error) {
	raw := c.Query(name)
	if raw == "" {
		return fallback, nil
	}

	value, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || value < 0 {
		return 0, config.Invalid(name, "%s %q is not a non-negative integer", name, raw)
	}
	return value, nil
}

func queryWait(c *fiber.Ctx) (time.Duration, error) {
	raw := c.Query("wait")
	if raw == "" {
		return 0, nil
	}

	wait, err := time.ParseDuration(raw)
	if err != nil || wait < 0 || wait > MaxFeedWait {
		return 0, config.Invalid("wait", "wait %q must be a duration from 0s to %s, such as 25s", raw, MaxFeedWait)
	}
	return wait, nil
}
