package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"portcullis.dev/plugins-marketplace/catalog"
	"portcullis.dev/services/internal/apiclient"
)

// publishCatalog publishes every first-party catalogue plugin with its
// README and test vectors. A version that exists already is left alone, so
// running it again changes nothing.
func publishCatalog(ctx context.Context, client *apiclient.Client) error {
	packages, err := catalog.All()
	if err != nil {
		return err
	}

	for _, pkg := range packages {
		body := map[string]any{
			"name":          pkg.Manifest.Name,
			"version":       pkg.Manifest.Version,
			"source":        pkg.Source,
			"config_schema": pkg.ConfigSchema,
			"priority":      pkg.Manifest.Priority,
			"readme":        pkg.Readme,
			"test_vectors":  json.RawMessage(pkg.TestsJSON),
		}
		err := client.Do(ctx, http.MethodPost, "/api/v1/plugins", body, nil)
		if err != nil && apiclient.StatusOf(err) != http.StatusConflict {
			return fmt.Errorf("publish catalogue plugin %q: %w", pkg.Manifest.Name, err)
		}
	}
	return nil
}
