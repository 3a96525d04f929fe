package runtime

import (
	"fmt"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// BenchmarkBuildManyConsumers builds a tenant with 500 routes and 500
// consumers that each have one consumer-scope binding.
func BenchmarkBuildManyConsumers(b *testing.B) {
	tenant := validBundle()
	tenant.Routes, tenant.Bindings = nil, nil
	for i := range 500 {
		name := fmt.Sprintf("c%d", i)
		tenant.Routes = append(tenant.Routes, config.Route{Name: fmt.Sprintf("r%d", i), Paths: []string{fmt.Sprintf("/r%d", i)}, Upstream: "api"})
		tenant.Consumers = append(tenant.Consumers, bundle.Consumer{Name: name})
		tenant.Bindings = append(tenant.Bindings, config.Binding{ID: "b-" + name, Plugin: "log", Version: "2.0.0", Consumer: name})
	}
	compiler := chain.NewCompiler(0)

	for b.Loop() {
		if _, err := Build(tenant, compiler); err != nil {
			b.Fatal(err)
		}
	}
}
