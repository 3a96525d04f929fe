package benchenv

import (
	"context"
	"fmt"
	"net/http"
)

// LightSource returns the source of light plugin number index at version:
// rewrite sets one request header from the config's "tag", and
// header_filter sets one response header to "<version>/<tag>", so a client
// can tell which code version and config served it.
func LightSource(index int, version string) string {
	return fmt.Sprintf(`func rewrite(ctx, conf) {
    ctx.req.set_header("X-Light-%[1]d", conf["tag"])
}

func header_filter(ctx, conf) {
    ctx.resp.set_header("X-Light-%[1]d", %[2]q + "/" + conf["tag"])
}
`, index, version)
}

// LightName returns the plugin name of light plugin number index.
func LightName(index int) string {
	return fmt.Sprintf("light-%d", index)
}

// ResponseHeader returns the response header that light plugin number index
// sets.
func ResponseHeader(index int) string {
	return fmt.Sprintf("X-Light-%d", index)
}

// PublishLight publishes light plugin number index at version.
func (e *Env) PublishLight(ctx context.Context, index int, version string) error {
	return e.publish(ctx, LightName(index), version, LightSource(index, version))
}

// publish publishes version of plugin name with source.
func (e *Env) publish(ctx context.Context, name, version, source string) error {
	return e.API.Do(ctx, http.MethodPost, "/api/v1/plugins", map[string]any{
		"name": name, "version": version, "source": source,
	}, nil)
}

// CheckedSource returns the source of checked plugin number index at
// version. It adds the same headers as light plugin number index, unless
// the client sent the request header or the upstream failed. The checks
// read the exchange, so its hooks run in Risor's VM, while a light
// plugin's hooks are static (pluginhost/static.go).
func CheckedSource(index int, version string) string {
	return fmt.Sprintf(`func rewrite(ctx, conf) {
    if ctx.req.header("X-Light-%[1]d") == "" {
        ctx.req.set_header("X-Light-%[1]d", conf["tag"])
    }
}

func header_filter(ctx, conf) {
    if ctx.resp.status < 500 {
        ctx.resp.set_header("X-Light-%[1]d", %[2]q + "/" + conf["tag"])
    }
}
`, index, version)
}

// CheckedName returns the plugin name of checked plugin number index.
func CheckedName(index int) string {
	return fmt.Sprintf("checked-%d", index)
}

// PublishChecked publishes checked plugin number index at version.
func (e *Env) PublishChecked(ctx context.Context, index int, version string) error {
	return e.publish(ctx, CheckedName(index), version, CheckedSource(index, version))
}

// EmptySource is the source of an empty plugin: its rewrite and
// header_filter hooks do nothing, so a chain of them costs what calling
// the hooks costs, without the headers that light plugins add.
const EmptySource = `func rewrite(ctx, conf) {
}

func header_filter(ctx, conf) {
}
`

// EmptyName returns the plugin name of empty plugin number index.
func EmptyName(index int) string {
	return fmt.Sprintf("empty-%d", index)
}

// PublishEmpty publishes empty plugin number index at version 1.0.0.
func (e *Env) PublishEmpty(ctx context.Context, index int) error {
	return e.publish(ctx, EmptyName(index), "1.0.0", EmptySource)
}

// AddTenant creates tenant with an upstream at the benchmark upstream and
// one route "main" for every path, binds light plugins 0 to plugins-1 at
// version 1.0.0 with config tag "t0" to that route, and returns the binding
// ids. The plugins must be published already. The bindings follow the
// version's reviewed flag; AddTenantTier chooses their tier.
func (e *Env) AddTenant(ctx context.Context, tenant string, plugins int) ([]string, error) {
	return e.AddTenantTier(ctx, tenant, plugins, "")
}

// AddTenantTier is AddTenant with every binding in tier: "sandboxed",
// "trusted" or empty.
func (e *Env) AddTenantTier(ctx context.Context, tenant string, plugins int, tier string) ([]string, error) {
	names := make([]string, plugins)
	for i := range names {
		names[i] = LightName(i)
	}
	return e.AddTenantPlugins(ctx, tenant, names, tier)
}

// AddTenantPlugins is AddTenantTier with the plugins named in plugins, each
// bound at version 1.0.0 with config tag "t0".
func (e *Env) AddTenantPlugins(ctx context.Context, tenant string, plugins []string, tier string) ([]string, error) {
	base := "/api/v1/tenants/" + tenant
	steps := []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/tenants", map[string]any{"slug": tenant, "name": tenant}},
		{base + "/upstreams", map[string]any{
			"name": "backend", "targets": []map[string]any{{"url": e.UpstreamURL, "weight": 1}},
		}},
		{base + "/routes", map[string]any{
			"name": "main", "paths": []string{"/"}, "methods": []string{"GET"}, "upstream": "backend",
		}},
	}
	for _, step := range steps {
		if err := e.API.Do(ctx, http.MethodPost, step.path, step.body, nil); err != nil {
			return nil, fmt.Errorf("set up tenant %q: %w", tenant, err)
		}
	}

	ids := make([]string, 0, len(plugins))
	for _, name := range plugins {
		var created struct {
			ID string `json:"id"`
		}
		body := map[string]any{
			"plugin": name, "version": "1.0.0", "route": "main", "config": map[string]any{"tag": "t0"},
		}
		if tier != "" {
			body["tier"] = tier
		}
		err := e.API.Do(ctx, http.MethodPost, base+"/bindings", body, &created)
		if err != nil {
			return nil, fmt.Errorf("bind %q to tenant %q: %w", name, tenant, err)
		}
		ids = append(ids, created.ID)
	}
	return ids, nil
}
