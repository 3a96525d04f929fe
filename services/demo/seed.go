package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"portcullis.dev/services/internal/apiclient"
)

// Tenant is the slug of the demo tenant.
const Tenant = "demo"

// Seed creates or updates the demo tenant through the portal API: an
// upstream at upstreamURL, a route for every path, and the hello plugin
// bound to it. It also publishes every catalogue plugin, unbound. Running
// it again brings the same state back.
func Seed(ctx context.Context, client *apiclient.Client, upstreamURL string) error {
	steps := []struct {
		name string
		run  func() error
	}{
		{"tenant", func() error {
			return upsert(ctx, client, "/api/v1/tenants", "/api/v1/tenants/"+Tenant,
				map[string]any{"slug": Tenant, "name": "Demo"})
		}},
		{"upstream", func() error {
			return upsert(ctx, client, "/api/v1/tenants/"+Tenant+"/upstreams", "/api/v1/tenants/"+Tenant+"/upstreams/echo",
				map[string]any{"name": "echo", "targets": []map[string]any{{"url": upstreamURL, "weight": 1}}})
		}},
		{"route", func() error {
			return upsert(ctx, client, "/api/v1/tenants/"+Tenant+"/routes", "/api/v1/tenants/"+Tenant+"/routes/all",
				map[string]any{"name": "all", "paths": []string{"/"}, "upstream": "echo"})
		}},
		{"plugin", func() error { return publishPlugin(ctx, client) }},
		{"catalogue", func() error { return PublishCatalog(ctx, client) }},
		{"binding", func() error { return bindPlugin(ctx, client) }},
	}

	for _, step := range steps {
		if err := step.run(); err != nil {
			return fmt.Errorf("set up demo %s: %w", step.name, err)
		}
	}
	return nil
}

// upsert creates a resource, or replaces it when it already exists. It
// looks first, so a restart does not log a rejected create.
func upsert(ctx context.Context, client *apiclient.Client, collection, item string, body map[string]any) error {
	err := client.Do(ctx, http.MethodGet, item, nil, nil)
	switch {
	case err == nil:
		return client.Do(ctx, http.MethodPut, item, body, nil)
	case apiclient.StatusOf(err) == http.StatusNotFound:
		return client.Do(ctx, http.MethodPost, collection, body, nil)
	default:
		return err
	}
}

func publishPlugin(ctx context.Context, client *apiclient.Client) error {
	body := map[string]any{
		"name":          PluginName,
		"version":       PluginVersion,
		"source":        PluginSource,
		"config_schema": json.RawMessage(PluginSchema),
	}
	err := client.Do(ctx, http.MethodGet, "/api/v1/plugins/"+PluginName+"/versions/"+PluginVersion, nil, nil)
	if apiclient.StatusOf(err) != http.StatusNotFound {
		return err
	}
	return client.Do(ctx, http.MethodPost, "/api/v1/plugins", body, nil)
}

func bindPlugin(ctx context.Context, client *apiclient.Client) error {
	path := "/api/v1/tenants/" + Tenant + "/bindings"
	config := map[string]any{"greeting": "hello from Portcullis"}

	type binding struct {
		ID     string `json:"id"`
		Plugin string `json:"plugin"`
	}
	bindings, err := apiclient.List[binding](ctx, client, path)
	if err != nil {
		return err
	}
	for _, binding := range bindings {
		if binding.Plugin == PluginName {
			update := map[string]any{"version": PluginVersion, "config": config}
			return client.Do(ctx, http.MethodPatch, path+"/"+binding.ID, update, nil)
		}
	}

	create := map[string]any{"plugin": PluginName, "version": PluginVersion, "route": "all", "config": config}
	return client.Do(ctx, http.MethodPost, path, create, nil)
}
