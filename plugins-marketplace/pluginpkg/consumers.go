package pluginpkg

import (
	"fmt"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// MaxVectorConsumers bounds the consumers of one vector.
const MaxVectorConsumers = 20

// VectorConsumer is a consumer of the vector's tenant, which ctx.consumer
// finds by its key-auth keys and whose jwt public keys it returns.
type VectorConsumer struct {
	Name string `json:"name"`
	// Keys are the consumer's key-auth keys.
	Keys []string `json:"keys,omitempty"`
	// JWTKeys are the public keys of the consumer's jwt credentials.
	JWTKeys []VectorJWTKey `json:"jwt_keys,omitempty"`
}

// VectorJWTKey is the public key of a consumer's jwt credential.
type VectorJWTKey struct {
	// Algorithm is the JWS algorithm, such as "RS256" or "EdDSA".
	Algorithm string `json:"algorithm"`
	// PublicKey is the key in PEM.
	PublicKey string `json:"public_key"`
}

// checkConsumers adds an issue for each consumer without a name, each name
// or key-auth key used twice, and a list above MaxVectorConsumers.
func (v *Vector) checkConsumers(found *issues, at string) {
	if len(v.Consumers) > MaxVectorConsumers {
		found.add(at+".consumers", "%d consumers are above the limit of %d", len(v.Consumers), MaxVectorConsumers)
	}

	names := map[string]bool{}
	keys := map[string]string{}
	for i, consumer := range v.Consumers {
		field := fmt.Sprintf("%s.consumers[%d]", at, i)
		switch {
		case consumer.Name == "":
			found.add(field+".name", "name is missing: give each consumer a name")
		case names[consumer.Name]:
			found.add(field+".name", "consumer %q is listed twice: list each consumer once", consumer.Name)
		}
		names[consumer.Name] = true

		for j, key := range consumer.Keys {
			owner, duplicate := keys[key]
			switch {
			case key == "":
				found.add(fmt.Sprintf("%s.keys[%d]", field, j), "key is empty: give each key-auth key a value")
			case duplicate:
				found.add(fmt.Sprintf("%s.keys[%d]", field, j), "this key is also a key of consumer %q: keys are unique in a tenant", owner)
			}
			keys[key] = consumer.Name
		}
	}
}

// vectorConsumers is the consumer directory of a vector run.
type vectorConsumers struct {
	consumers []VectorConsumer
}

var _ pluginhost.ConsumerHost = vectorConsumers{}

// ConsumerByKey returns the consumer with the key-auth key.
func (d vectorConsumers) ConsumerByKey(key string) (string, bool) {
	for _, consumer := range d.consumers {
		for _, candidate := range consumer.Keys {
			if candidate == key {
				return consumer.Name, true
			}
		}
	}
	return "", false
}

// ConsumerExists reports whether the vector lists a consumer called name.
func (d vectorConsumers) ConsumerExists(name string) bool {
	for _, consumer := range d.consumers {
		if consumer.Name == name {
			return true
		}
	}
	return false
}

// ConsumerKeys returns the consumer's jwt public keys.
func (d vectorConsumers) ConsumerKeys(name string) []pluginhost.ConsumerKey {
	var keys []pluginhost.ConsumerKey
	for _, consumer := range d.consumers {
		if consumer.Name != name {
			continue
		}
		for _, key := range consumer.JWTKeys {
			keys = append(keys, pluginhost.ConsumerKey{Algorithm: key.Algorithm, PublicKey: key.PublicKey})
		}
	}
	return keys
}

// withConsumers is the host of a vector that lists consumers.
type withConsumers struct {
	noNetwork
	vectorConsumers
}

// vectorHost returns the host of a vector run: the tenant's services
// without outbound HTTP, and the vector's consumers when it lists any.
func vectorHost(vector *Vector, host pluginhost.Host) pluginhost.Host {
	offline := noNetwork{Host: host}
	if len(vector.Consumers) == 0 {
		return offline
	}
	return withConsumers{noNetwork: offline, vectorConsumers: vectorConsumers{consumers: vector.Consumers}}
}
