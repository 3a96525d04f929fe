package runtime

import (
	"fmt"

	"portcullis.dev/edge/chain"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// IsSandboxed reports whether a binding's hooks run in a worker process
// when the edge runs workers: a binding's Tier decides, and an empty Tier
// follows the plugin version's reviewed flag. Pre-flight uses it to run a
// binding's test vectors where its hooks run.
func IsSandboxed(binding config.Binding, code bundle.PluginCode) bool {
	return isSandboxed(binding, code)
}

func isSandboxed(binding config.Binding, code bundle.PluginCode) bool {
	switch binding.Tier {
	case config.TierSandboxed:
		return true
	case config.TierTrusted:
		return false
	}
	return !code.Reviewed
}

// bindInProcess compiles a binding's plugin and binds its config, for the
// trusted tier.
func bindInProcess(compiler *chain.Compiler, tenant string, binding config.Binding, code bundle.PluginCode) (*pluginhost.Instance, error) {
	plugin, err := compiler.Compile(code)
	if err != nil {
		return nil, fmt.Errorf("binding %q: %w", binding.ID, err)
	}

	options := pluginhost.BindOptions{Tenant: tenant, Binding: binding.ID, AllowHosts: binding.AllowHosts}
	instance, err := plugin.BindWith(binding.Config, options)
	if err != nil {
		return nil, fmt.Errorf("binding %q: bind config of plugin %q version %q: %w", binding.ID, binding.Plugin, binding.Version, err)
	}
	return instance, nil
}

// sandboxedBindings collects a bundle's sandboxed bindings, so that they
// reach the tenant's worker in one Load.
type sandboxedBindings struct {
	bindings []worker.Binding
	// steps are the positions of the bindings' steps.
	steps []int
}

// add records the binding of the step at position step.
func (s *sandboxedBindings) add(step int, binding config.Binding, code bundle.PluginCode) error {
	if sum := bundle.SourceHash(code.Source); sum != code.SHA256 {
		return fmt.Errorf("binding %q: plugin %q version %q: source hash %q does not match the declared %q", binding.ID, code.Name, code.Version, sum, code.SHA256)
	}
	s.bindings = append(s.bindings, worker.Binding{
		ID:         binding.ID,
		Plugin:     binding.Plugin,
		Version:    binding.Version,
		Source:     code.Source,
		Config:     binding.Config,
		AllowHosts: binding.AllowHosts,
	})
	s.steps = append(s.steps, step)
	return nil
}

// load sends the bindings to the tenant's worker and gives their steps the
// worker's set.
func (s *sandboxedBindings) load(pool *sandbox.Pool, tenant string, steps []boundStep) error {
	if len(s.bindings) == 0 {
		return nil
	}
	set, err := pool.Load(tenant, s.bindings)
	if err != nil {
		return err
	}
	for i, position := range s.steps {
		steps[position].step.Remote = set.Step(i)
	}
	return nil
}
