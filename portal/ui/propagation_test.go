package ui

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/portal/store"
)

func TestPropagationPageShowsRejection(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	latest, err := site.store.LatestChange(ctx, "acme")
	if err != nil {
		t.Fatalf("LatestChange: %v", err)
	}
	token, err := site.store.CreateEdgeToken(ctx)
	if err != nil {
		t.Fatalf("CreateEdgeToken: %v", err)
	}
	tokenID, err := site.store.EdgeTokenID(ctx, token)
	if err != nil {
		t.Fatalf("EdgeTokenID: %v", err)
	}

	reason := `pre-flight of plugin "shaper" version "1.0.0" for binding "b1": test vector "greets" failed`
	report := store.EdgeReport{
		NodeID: "a-1", Region: "a", Position: latest.Position, Healthy: true,
		Revisions: map[string]int64{"acme": latest.Revision - 1},
		Rejected:  map[string]store.EdgeRejection{"acme": {Revision: latest.Revision, Reason: reason}},
	}
	if err := site.store.RecordEdge(ctx, tokenID, report); err != nil {
		t.Fatalf("RecordEdge: %v", err)
	}

	for lang, state := range map[string]string{English: "rejected", SimplifiedChinese: "已拒绝"} {
		status, page := site.get("/ui/propagation?lang="+lang, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /ui/propagation in %s: status %d, want 200", lang, status)
		}
		if !strings.Contains(page, "<td>"+state+"</td>") {
			t.Errorf("propagation page in %s lacks the state %q", lang, state)
		}
		if !strings.Contains(page, "test vector &#34;greets&#34; failed") {
			t.Errorf("propagation page in %s lacks the reason %q", lang, reason)
		}
	}
}
