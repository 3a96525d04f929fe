package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/tenants/bundle"
)

// Consumers is a tenant's consumer directory at one revision: what plugins
// look up through ctx.consumer. It holds key hashes and public keys, never
// a key or a secret, and is immutable.
type Consumers struct {
	names map[string]bool
	// byKey maps the hex SHA-256 of a key-auth key to its consumer.
	byKey map[string]string
	keys  map[string][]pluginhost.ConsumerKey
}

// buildConsumers indexes the bundle's consumers. It returns nil for a
// tenant without consumers.
func buildConsumers(consumers []bundle.Consumer) (*Consumers, error) {
	if len(consumers) == 0 {
		return nil, nil
	}

	dir := &Consumers{names: map[string]bool{}, byKey: map[string]string{}, keys: map[string][]pluginhost.ConsumerKey{}}
	for _, consumer := range consumers {
		if dir.names[consumer.Name] {
			return nil, fmt.Errorf("consumer %q is defined twice", consumer.Name)
		}
		dir.names[consumer.Name] = true

		for _, credential := range consumer.Credentials {
			if credential.KeySHA256 != "" {
				if owner, duplicate := dir.byKey[credential.KeySHA256]; duplicate {
					return nil, fmt.Errorf("consumer %q: credential %q has the same key as one of consumer %q", consumer.Name, credential.ID, owner)
				}
				dir.byKey[credential.KeySHA256] = consumer.Name
			}
			if credential.PublicKey != "" {
				key := pluginhost.ConsumerKey{Algorithm: credential.Algorithm, PublicKey: credential.PublicKey}
				dir.keys[consumer.Name] = append(dir.keys[consumer.Name], key)
			}
		}
	}
	return dir, nil
}

// ConsumerByKey returns the consumer whose key-auth key is key. The lookup
// is by the key's SHA-256, so its time does not depend on how much of a
// stored key the presented one shares.
func (c *Consumers) ConsumerByKey(key string) (string, bool) {
	sum := sha256.Sum256([]byte(key))
	name, found := c.byKey[hex.EncodeToString(sum[:])]
	return name, found
}

// ConsumerExists reports whether the tenant has a consumer called name.
func (c *Consumers) ConsumerExists(name string) bool {
	return c.names[name]
}

// ConsumerKeys returns the public keys of the consumer's jwt credentials.
// Callers must not modify the returned slice.
func (c *Consumers) ConsumerKeys(name string) []pluginhost.ConsumerKey {
	return c.keys[name]
}

// consumerHost adds a tenant's consumer directory to a request's host
// services.
type consumerHost struct {
	pluginhost.Host
	*Consumers
}

// WithConsumers returns host with the runtime's consumer directory, so
// that ctx.consumer can find the tenant's consumers. It returns host
// unchanged for a tenant without consumers.
func (rt *Runtime) WithConsumers(host pluginhost.Host) pluginhost.Host {
	if rt.consumers == nil {
		return host
	}
	return consumerHost{Host: host, Consumers: rt.consumers}
}

// addConsumerChains gives each route the chains of the consumers that
// have consumer-scope bindings. It fails when such a binding names a
// consumer that the bundle lacks.
func addConsumerChains(routes []*Route, steps []boundStep, consumers *Consumers) error {
	bound := map[string]bool{}
	for _, step := range steps {
		if step.consumer == "" || bound[step.consumer] {
			continue
		}
		if consumers == nil || !consumers.ConsumerExists(step.consumer) {
			return fmt.Errorf("binding %q: consumer %q is not defined", step.step.Binding, step.consumer)
		}
		bound[step.consumer] = true
	}
	if len(bound) == 0 {
		return nil
	}

	for _, route := range routes {
		route.consumerChains = &consumerChains{route: route.Name, steps: steps, bound: bound}
	}
	return nil
}

// consumerChains builds a route's chain for a consumer with consumer-scope
// bindings on the consumer's first request on the route, and keeps it. A
// build at every revision so costs the same however many routes and
// consumers the tenant has, instead of one chain per pair.
//
// NOTE: the cache grows to one chain per route and consumer that requests
// reached, and lives as long as the runtime's revision.
type consumerChains struct {
	route string
	steps []boundStep
	// bound contains the consumers that have consumer-scope bindings.
	bound map[string]bool
	// built maps a consumer's name to its *chain.Chain.
	built sync.Map
}

// chainFor returns the chain of consumer, or false when the consumer has
// no consumer-scope binding.
func (c *consumerChains) chainFor(consumer string) (*chain.Chain, bool) {
	if !c.bound[consumer] {
		return nil, false
	}
	if built, ok := c.built.Load(consumer); ok {
		return built.(*chain.Chain), true
	}

	built, _ := c.built.LoadOrStore(consumer, chain.New(scopedSteps(c.steps, c.route, consumer)))
	return built.(*chain.Chain), true
}

// ChainFor returns the chain for a request of consumer: the consumer's own
// when it has consumer-scope bindings, the route's Chain otherwise.
func (r *Route) ChainFor(consumer string) *chain.Chain {
	if consumer == "" || r.consumerChains == nil {
		return r.Chain
	}
	if c, ok := r.consumerChains.chainFor(consumer); ok {
		return c
	}
	return r.Chain
}

// RunRequest runs the request phases of the route's plugins on ex and
// returns the chain that the later phases must use. Once a plugin has
// identified the consumer, the phases after the one it ran in come from
// the consumer's chain, so consumer-scope bindings apply from there on.
// That holds after an exit or a failure too: the header_filter and log
// phases of a request whose consumer is known run the consumer's chain.
func (r *Route) RunRequest(ctx context.Context, ex *pluginhost.Exchange) (*chain.Chain, error) {
	active := r.Chain
	for _, phase := range chain.RequestPhases {
		err := active.Run(ctx, phase, ex)
		active = r.ChainFor(ex.Request.Consumer)
		if err != nil || ex.Exit != nil {
			return active, err
		}
	}
	return active, nil
}
