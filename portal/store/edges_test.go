package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

func TestEdgeRejectedRoundTrip(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			token, err := s.CreateEdgeToken(ctx)
			if err != nil {
				t.Fatalf("CreateEdgeToken: %v", err)
			}
			id, err := s.EdgeTokenID(ctx, token)
			if err != nil {
				t.Fatalf("EdgeTokenID: %v", err)
			}

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
