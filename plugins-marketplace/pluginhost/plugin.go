package pluginhost

import (
	"encoding/json"
	"fmt"

	"github.com/risor-io/risor/compiler"
)

// Plugin is one compiled plugin version. It is immutable and safe for
// concurrent use.
type Plugin struct {
	name    string
	version string
	code    *compiler.Code

	// hasHook and readsConf are indexed like phaseOrder. readsConf is false
	// for a hook that cannot reach its conf argument (hookReadsConf).
	hasHook   [phaseCount]bool
	readsConf [phaseCount]bool

	// static holds the steps of each static hook (static.go), and nil
	// for a hook that runs in the VM.
	static [phaseCount][]staticStep
}

// Name returns the plugin's name.
func (p *Plugin) Name() string {
	return p.name
}

// Version returns the plugin's version.
func (p *Plugin) Version() string {
	return p.version
}

// Has reports whether the plugin defines a hook for ph.
func (p *Plugin) Has(ph Phase) bool {
	idx, err := phaseIndex(ph)
	return err == nil && p.hasHook[idx]
}

// Bind prepares a binding of this plugin with config, a JSON object that
// hooks receive as conf. Empty config and JSON null mean {}.
func (p *Plugin) Bind(config json.RawMessage) (*Instance, error) {
	return p.BindWith(config, BindOptions{})
}

// BindWith is Bind with the binding's ids and permissions. Each call
// returns an Instance with its own VMs, so no two bindings, and so no two
// tenants, share script state.
func (p *Plugin) BindWith(config json.RawMessage, options BindOptions) (*Instance, error) {
	conf, err := decodeConfig(config)
	if err != nil {
		return nil, fmt.Errorf("bind plugin %q version %q: %w", p.name, p.version, err)
	}

	caller := Caller{
		Tenant:     options.Tenant,
		Binding:    options.Binding,
		Plugin:     p.name,
		Version:    p.version,
		AllowHosts: append([]string(nil), options.AllowHosts...),
	}
	instance := &Instance{plugin: p, config: conf, configShape: shapeOf(conf), caller: caller}
	instance.pool.plugin = p
	for idx, steps := range p.static {
		if steps != nil {
			instance.static[idx], instance.isStatic[idx] = bindStatic(steps, conf)
		}
	}
	return instance, nil
}
