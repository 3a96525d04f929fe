package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"portcullis.dev/plugins-marketplace/catalog"
	"portcullis.dev/services/internal/apiclient"
)

// PublishCatalog publishes every first-party catalogue plugin with its
// README and test vectors, and marks each version reviewed. A version that
// exists already is left alone, so running it again changes nothing.
func PublishCatalog(ctx context.Context, client *apiclient.Client) error {
	packages, err := catalog.All()
	if err != nil {
		return err
	}

	for _, pkg := range packages {
		body := map[string]any{
			"name":          pkg.Manifest.Name,
			"version":       pkg.Manifest.Version,
			"description":   pkg.Manifest.Description,
			"source":        pkg.Source,
			"config_schema": pkg.ConfigSchema,
			"priority":      pkg.Manifest.Priority,
			"readme":        pkg.Readme,
			"test_vectors":  json.RawMessage(pkg.TestsJSON),
		}
		if err := publishOnce(ctx, client, pkg.Manifest.Name, pkg.Manifest.Version, body); err != nil {
			return err
		}
		if err := markReviewed(ctx, client, pkg.Manifest.Name, pkg.Manifest.Version); err != nil {
			return err
		}
	}
	return nil
}

// publishOnce publishes a catalogue version unless the portal has it
// already, as after a restart, so that a restart logs no failed publish.
// A version that another start publishes meanwhile is a 409, which counts
// as published too.
func publishOnce(ctx context.Context, client *apiclient.Client, name, version string, body map[string]any) error {
	err := client.Do(ctx, http.MethodGet, "/api/v1/plugins/"+name+"/versions/"+version, nil, nil)
	if err == nil {
		return nil
	}
	if apiclient.StatusOf(err) != http.StatusNotFound {
		return fmt.Errorf("look up catalogue plugin %q version %q: %w", name, version, err)
	}

	err = client.Do(ctx, http.MethodPost, "/api/v1/plugins", body, nil)
	if err != nil && apiclient.StatusOf(err) != http.StatusConflict {
		return fmt.Errorf("publish catalogue plugin %q: %w", name, err)
	}
	return nil
}

// markReviewed marks a first-party plugin version reviewed, so its bindings
// run inside the edge process (the trusted tier) instead of a worker.
func markReviewed(ctx context.Context, client *apiclient.Client, name, version string) error {
	path := "/api/v1/plugins/" + name + "/versions/" + version + "/review"
	if err := client.Do(ctx, http.MethodPost, path, map[string]any{"reviewed": true}, nil); err != nil {
		return fmt.Errorf("mark plugin %q version %q reviewed: %w", name, version, err)
	}
	return nil
}
