package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/bundle"
)

func TestPluginReviewOperatorOnly(t *testing.T) {
	marketDialects(t, func(t *testing.T, w *walkServer) {
		w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "hello", "version": "1.0.0", "source": tagSource}, http.StatusCreated)
		w.must(walkOperatorToken, "POST", "/api/v1/plugins", map[string]any{"name": "tag", "version": "1.0.0", "source": tagSource}, http.StatusCreated)
		a := w.seedWalkTenant("tenant-a", "alice@example.com")
		w.must(a.token, "POST", "/api/v1/tenants/"+a.slug+"/bindings", map[string]any{"plugin": "tag", "version": "1.0.0", "config": map[string]any{"tag": "t"}}, http.StatusCreated)
		reviewedIn := func() bool {
			b, err := w.store.Bundle(context.Background(), a.slug)
			if err != nil {
				t.Fatalf("bundle: %v", err)
			}
			return b.Plugins[bundle.Key("tag", "1.0.0")].Reviewed
		}
		if reviewedIn() {
			t.Fatal("bundle marks a new version reviewed, want unreviewed")
		}
		before, err := w.store.Bundle(context.Background(), a.slug)
		if err != nil {
			t.Fatalf("bundle: %v", err)
		}

		w.must(a.token, "POST", "/api/v1/plugins/tag/versions/1.0.0/review", nil, http.StatusForbidden)
		w.must(walkOperatorToken, "POST", "/api/v1/plugins/tag/versions/9.9.9/review", nil, http.StatusNotFound)

		var review store.PluginReview
		if err := json.Unmarshal(w.must(walkOperatorToken, "POST", "/api/v1/plugins/tag/versions/1.0.0/review", nil, http.StatusOK), &review); err != nil {
			t.Fatalf("decode review: %v", err)
		}
		if !review.Reviewed || len(review.Tenants) != 1 || review.Tenants[0] != a.slug {
			t.Errorf("review = %+v, want reviewed with tenant %q", review, a.slug)
		}
		after, err := w.store.Bundle(context.Background(), a.slug)
		if err != nil {
			t.Fatalf("bundle: %v", err)
		}
		if !after.Plugins[bundle.Key("tag", "1.0.0")].Reviewed || after.Revision <= before.Revision {
			t.Errorf("bundle after review: reviewed %v revision %d, want reviewed above revision %d", after.Plugins[bundle.Key("tag", "1.0.0")].Reviewed, after.Revision, before.Revision)
		}

		w.must(walkOperatorToken, "POST", "/api/v1/plugins/tag/versions/1.0.0/review", map[string]any{"reviewed": false}, http.StatusOK)
		if reviewedIn() {
			t.Error("bundle still marks the version reviewed after reviewed false")
		}
	})
}
