package pluginhost

import (
	"github.com/risor-io/risor/object"
)

// ConsumerHost is the part of the host API that identifies consumers. A
// Host that also implements it lets scripts find a consumer by an API key
// and read a consumer's jwt public keys. Without it, ctx.consumer finds no
// consumer.
type ConsumerHost interface {
	// ConsumerByKey returns the consumer whose key-auth credential has key.
	ConsumerByKey(key string) (name string, found bool)
	// ConsumerExists reports whether the tenant has a consumer called name.
	ConsumerExists(name string) bool
	// ConsumerKeys returns the public keys of the consumer's jwt
	// credentials.
	ConsumerKeys(name string) []ConsumerKey
}

// ConsumerKey is the public key of a consumer's jwt credential.
type ConsumerKey struct {
	// Algorithm is the JWS algorithm, such as "RS256" or "EdDSA".
	Algorithm string
	// PublicKey is the key in PEM.
	PublicKey string
}

// consumerNamespace returns ctx.consumer.
func (host *hostObjects) consumerNamespace() *namespace {
	return &namespace{name: "ctx.consumer", members: map[string]object.Object{
		"name":   host.method("ctx.consumer.name", consumerName),
		"set":    host.method("ctx.consumer.set", setConsumer),
		"by_key": host.method("ctx.consumer.by_key", consumerByKey),
		"keys":   host.method("ctx.consumer.keys", consumerKeys),
	}}
}

// consumers returns the exchange's ConsumerHost, or nil.
func (host *hostObjects) consumers() ConsumerHost {
	consumers, _ := host.exchange.Host.(ConsumerHost)
	return consumers
}

// consumerName implements ctx.consumer.name(): the identified consumer, or
// "" before a plugin identified one.
func consumerName(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.consumer.name", args, 0, 0); err != nil {
		return err
	}
	return object.NewString(host.exchange.Request.Consumer)
}

// setConsumer implements ctx.consumer.set(name). Only the request phases
// before the upstream call may identify a consumer, and only as one the
// tenant has.
func setConsumer(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.consumer.set", args, 1, 1); err != nil {
		return err
	}
	name, err := argString("ctx.consumer.set", args, 0)
	if err != nil {
		return err
	}
	if host.phase != PhaseRewrite && host.phase != PhaseAccess {
		return object.Errorf("eval error: ctx.consumer.set is not allowed in %s: identify the consumer in rewrite or access", host.phase)
	}

	consumers := host.consumers()
	if consumers == nil || !consumers.ConsumerExists(name) {
		return object.Errorf("value error: ctx.consumer.set: the tenant has no consumer %q", name)
	}
	host.exchange.Request.Consumer = name
	return object.Nil
}

// consumerByKey implements ctx.consumer.by_key(key): the name of the
// consumer whose API key is key, or nil.
func consumerByKey(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.consumer.by_key", args, 1, 1); err != nil {
		return err
	}
	key, err := argString("ctx.consumer.by_key", args, 0)
	if err != nil {
		return err
	}

	consumers := host.consumers()
	if consumers == nil || key == "" {
		return object.Nil
	}
	name, found := consumers.ConsumerByKey(key)
	if !found {
		return object.Nil
	}
	return object.NewString(name)
}

// consumerKeys implements ctx.consumer.keys(name): a list of maps with
// "algorithm" and "public_key", empty for an unknown consumer.
func consumerKeys(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.consumer.keys", args, 1, 1); err != nil {
		return err
	}
	name, err := argString("ctx.consumer.keys", args, 0)
	if err != nil {
		return err
	}

	var keys []ConsumerKey
	if consumers := host.consumers(); consumers != nil {
		keys = consumers.ConsumerKeys(name)
	}
	items := make([]object.Object, 0, len(keys))
	for _, key := range keys {
		items = append(items, object.NewMap(map[string]object.Object{
			"algorithm":  object.NewString(key.Algorithm),
			"public_key": object.NewString(key.PublicKey),
		}))
	}
	return object.NewList(items)
}
