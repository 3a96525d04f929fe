package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

func TestEdgeRejectedRoundTrip(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			id := newEdgeTokenID(t, s)

			rejected := map[string]EdgeRejection{
				"acme": {Revision: 4, Reason: `pre-flight of plugin "guard" version "1.0.0" for binding "b1": test vector "never denies" failed`},
				"shop": {Revision: 9, Reason: "中文 reason"},
			}
			report := EdgeReport{NodeID: "a-1", Region: "a", Position: 5, Revisions: map[string]int64{"acme": 3}, Healthy: true, Rejected: rejected}
			if err := s.RecordEdge(ctx, id, report); err != nil {
				t.Fatalf("RecordEdge: %v", err)
			}
			if got := listRejected(t, s); !maps.Equal(got, rejected) {
				t.Errorf("rejected after the first report = %v, want %v", got, rejected)
			}

			report.Rejected = nil
			if err := s.RecordEdge(ctx, id, report); err != nil {
				t.Fatalf("RecordEdge without rejected: %v", err)
			}
			if got := listRejected(t, s); len(got) != 0 {
				t.Errorf("rejected after a report without it = %v, want none", got)
			}
		})
	}
}

// listRejected returns the rejected map of the only edge.
func listRejected(t *testing.T, s *Store) map[string]EdgeRejection {
	t.Helper()
	nodes, err := s.ListEdges(context.Background())
	if err != nil {
		t.Fatalf("ListEdges: %v", err)
	}
	if len(nodes) != 1 {
		t.Fatalf("edges = %d, want 1", len(nodes))
	}
	return nodes[0].Rejected
}

func TestValidateRejected(t *testing.T) {
	valid := map[string]EdgeRejection{"acme": {Revision: 1, Reason: "failed"}}
	if err := ValidateRejected(valid); err != nil {
		t.Errorf("ValidateRejected(valid) = %v, want nil", err)
	}

	cases := map[string]map[string]EdgeRejection{
		"zero revision":    {"acme": {Revision: 0, Reason: "failed"}},
		"empty tenant":     {"": {Revision: 1}},
		"line break":       {"acme": {Revision: 1, Reason: "one\ntwo"}},
		"long reason":      {"acme": {Revision: 1, Reason: strings.Repeat("x", MaxRejectionReason+1)}},
		"too many tenants": tooManyRejections(),
	}
	for name, rejected := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateRejected(rejected)
			var fieldErr *config.FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("ValidateRejected = %v, want a *config.FieldError", err)
			}
			if fieldErr.Field != "rejected" {
				t.Errorf("field = %q, want rejected", fieldErr.Field)
			}
		})
	}
}

func tooManyRejections() map[string]EdgeRejection {
	rejected := map[string]EdgeRejection{}
	for i := range MaxRejectedTenants + 1 {
		rejected[fmt.Sprintf("t%d", i)] = EdgeRejection{Revision: 1}
	}
	return rejected
}

func TestEdgeTokensListAndDelete(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			used, usedToken, err := s.CreateEdgeToken(ctx)
			if err != nil {
				t.Fatalf("CreateEdgeToken: %v", err)
			}
			unused, unusedToken, err := s.CreateEdgeToken(ctx)
			if err != nil {
				t.Fatalf("CreateEdgeToken: %v", err)
			}
			if id, err := s.EdgeTokenID(ctx, usedToken); err != nil || id != used.ID {
				t.Fatalf("EdgeTokenID(first token) = %d, %v, want %d", id, err, used.ID)
			}
			for _, node := range []string{"b-1", "a-1"} {
				if err := s.RecordEdge(ctx, used.ID, EdgeReport{NodeID: node, Region: "r", Revisions: map[string]int64{}, Healthy: true}); err != nil {
					t.Fatalf("RecordEdge(%s): %v", node, err)
				}
			}

			tokens, err := s.ListEdgeTokens(ctx)
			if err != nil {
				t.Fatalf("ListEdgeTokens: %v", err)
			}
			if len(tokens) != 2 {
				t.Fatalf("tokens = %+v, want 2", tokens)
			}
			if tokens[0].ID != used.ID || tokens[1].ID != unused.ID {
				t.Errorf("token ids = %d, %d, want %d, %d", tokens[0].ID, tokens[1].ID, used.ID, unused.ID)
			}
			// PostgreSQL keeps microseconds of the created time.
			if gap := tokens[0].CreatedAt.Sub(used.CreatedAt).Abs(); gap > time.Millisecond {
				t.Errorf("listed created_at = %v, want the created %v", tokens[0].CreatedAt, used.CreatedAt)
			}
			if got := strings.Join(tokens[0].Edges, ","); got != "a-1,b-1" {
				t.Errorf("edges of the used token = %q, want a-1,b-1", got)
			}
			if want := latestHeartbeat(t, s); tokens[0].LastHeartbeatAt == nil || !tokens[0].LastHeartbeatAt.Equal(want) {
				t.Errorf("last heartbeat of the used token = %v, want %v", tokens[0].LastHeartbeatAt, want)
			}
			if tokens[1].Edges == nil || len(tokens[1].Edges) != 0 {
				t.Errorf("edges of the unused token = %#v, want an empty list", tokens[1].Edges)
			}
			if tokens[1].LastHeartbeatAt != nil {
				t.Errorf("last heartbeat of the unused token = %v, want nil", tokens[1].LastHeartbeatAt)
			}

			listed, err := json.Marshal(tokens)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{usedToken, unusedToken, hashToken(usedToken), hashToken(unusedToken)} {
				if strings.Contains(string(listed), secret) {
					t.Errorf("listed tokens %s contain a token or its hash", listed)
				}
			}

			if err := s.DeleteEdgeToken(ctx, used.ID); err != nil {
				t.Fatalf("DeleteEdgeToken: %v", err)
			}
			if _, err := s.EdgeTokenID(ctx, usedToken); !errors.Is(err, ErrNotFound) {
				t.Errorf("EdgeTokenID(deleted token) error = %v, want not found", err)
			}
			if id, err := s.EdgeTokenID(ctx, unusedToken); err != nil || id != unused.ID {
				t.Errorf("EdgeTokenID(other token) = %d, %v, want %d", id, err, unused.ID)
			}
			var notFound *NotFoundError
			if err := s.DeleteEdgeToken(ctx, used.ID); !errors.As(err, &notFound) || notFound.Resource != "edge token" {
				t.Errorf("DeleteEdgeToken(deleted id) error = %v, want an edge token NotFoundError", err)
			}
			if tokens, err := s.ListEdgeTokens(ctx); err != nil || len(tokens) != 1 || tokens[0].ID != unused.ID {
				t.Errorf("tokens after the delete = %+v, %v, want only %d", tokens, err, unused.ID)
			}
		})
	}
}

// latestHeartbeat returns the latest last_seen_at of the stored edges.
func latestHeartbeat(t *testing.T, s *Store) time.Time {
	t.Helper()
	nodes, err := s.ListEdges(context.Background())
	if err != nil {
		t.Fatalf("ListEdges: %v", err)
	}
	var latest time.Time
	for _, node := range nodes {
		if node.LastSeenAt.After(latest) {
			latest = node.LastSeenAt
		}
	}
	return latest
}

func TestDeleteEdge(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			token, _, err := s.CreateEdgeToken(ctx)
			if err != nil {
				t.Fatalf("CreateEdgeToken: %v", err)
			}
			report := EdgeReport{NodeID: "a-1", Region: "a", Position: 3, Revisions: map[string]int64{"acme": 2}, Healthy: true}
			other := EdgeReport{NodeID: "b-1", Region: "b", Revisions: map[string]int64{}, Healthy: true}
			for _, r := range []EdgeReport{report, other} {
				if err := s.RecordEdge(ctx, token.ID, r); err != nil {
					t.Fatalf("RecordEdge(%s): %v", r.NodeID, err)
				}
			}

			if err := s.DeleteEdge(ctx, "a-1"); err != nil {
				t.Fatalf("DeleteEdge: %v", err)
			}
			if got := edgeIDs(t, s); got != "b-1" {
				t.Errorf("edges after the delete = %q, want b-1", got)
			}
			var notFound *NotFoundError
			if _, err := s.GetEdge(ctx, "a-1"); !errors.As(err, &notFound) || notFound.Resource != "edge node" || notFound.Name != "a-1" {
				t.Errorf("GetEdge(deleted) error = %v, want edge node \"a-1\" not found", err)
			}
			if err := s.DeleteEdge(ctx, "a-1"); !errors.As(err, &notFound) || notFound.Name != "a-1" {
				t.Errorf("DeleteEdge(deleted) error = %v, want edge node \"a-1\" not found", err)
			}

			if err := s.RecordEdge(ctx, token.ID, report); err != nil {
				t.Fatalf("RecordEdge after the delete: %v", err)
			}
			if got := edgeIDs(t, s); got != "a-1,b-1" {
				t.Errorf("edges after a new heartbeat = %q, want a-1,b-1", got)
			}
			node, err := s.GetEdge(ctx, "a-1")
			if err != nil {
				t.Fatalf("GetEdge: %v", err)
			}
			if node.Position != 3 || node.Revisions["acme"] != 2 || !node.Healthy {
				t.Errorf("GetEdge = %+v, want the report", node)
			}
		})
	}
}

// edgeIDs returns the node ids of the stored edges, joined by commas.
func edgeIDs(t *testing.T, s *Store) string {
	t.Helper()
	nodes, err := s.ListEdges(context.Background())
	if err != nil {
		t.Fatalf("ListEdges: %v", err)
	}
	ids := make([]string, 0, len(nodes))
	for _, node := range nodes {
		ids = append(ids, node.NodeID)
	}
	return strings.Join(ids, ",")
}

// newEdgeTokenID creates an edge token and returns its id.
func newEdgeTokenID(t *testing.T, s *Store) uint {
	t.Helper()
	ctx := context.Background()
	_, token, err := s.CreateEdgeToken(ctx)
	if err != nil {
		t.Fatalf("CreateEdgeToken: %v", err)
	}
	id, err := s.EdgeTokenID(ctx, token)
	if err != nil {
		t.Fatalf("EdgeTokenID: %v", err)
	}
	return id
}
