package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func TestConsumerChains(t *testing.T) {
	b := validBundle()
	b.Consumers = []bundle.Consumer{{Name: "alice"}, {Name: "bob"}}
	b.Bindings = []config.Binding{
		{ID: "tenant-auth", Plugin: "auth", Version: "1.0.0"},
		{ID: "tenant-log", Plugin: "log", Version: "2.0.0"},
		{ID: "route-auth", Plugin: "auth", Version: "1.0.0", Route: "web"},
		{ID: "alice-auth", Plugin: "auth", Version: "1.0.0", Consumer: "alice"},
		{ID: "alice-log", Plugin: "log", Version: "2.0.0", Consumer: "alice", Priority: new(100)},
	}

	rt, err := Build(b, chain.NewCompiler(0))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	route, _ := rt.Match("GET", "/")

	tests := []struct {
		consumer string
		want     string
	}{
		{"", "tenant-log,route-auth"},
		{"bob", "tenant-log,route-auth"},
		{"alice", "alice-log,alice-auth"},
		{"mallory", "tenant-log,route-auth"},
	}
	for _, tt := range tests {
		var got []string
		for _, step := range route.ChainFor(tt.consumer).Steps() {
			got = append(got, step.Binding)
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("consumer %q: steps = %s, want %s", tt.consumer, strings.Join(got, ","), tt.want)
		}
	}
}

func TestConsumerBundleErrors(t *testing.T) {
	tests := []struct {
		name      string
		consumers []bundle.Consumer
		bindings  []config.Binding
		wantErr   string
	}{
		{
			name:     "binding of an unknown consumer",
			bindings: []config.Binding{{ID: "b1", Plugin: "auth", Version: "1.0.0", Consumer: "ghost"}},
			wantErr:  `binding "b1": consumer "ghost" is not defined`,
		},
		{
			name:      "consumer twice",
			consumers: []bundle.Consumer{{Name: "alice"}, {Name: "alice"}},
			wantErr:   `consumer "alice" is defined twice`,
		},
		{
			name: "one key for two consumers",
			consumers: []bundle.Consumer{
				{Name: "alice", Credentials: []bundle.CredentialRef{{ID: "c1", KeySHA256: "ab"}}},
				{Name: "bob", Credentials: []bundle.CredentialRef{{ID: "c2", KeySHA256: "ab"}}},
			},
			wantErr: `credential "c2" has the same key as one of consumer "alice"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := validBundle()
			b.Consumers, b.Bindings = tt.consumers, tt.bindings

			_, err := Build(b, chain.NewCompiler(0))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Build() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestConsumerDirectory(t *testing.T) {
	sum := sha256.Sum256([]byte("secret-key"))
	dir, err := buildConsumers([]bundle.Consumer{{
		Name: "alice",
		Credentials: []bundle.CredentialRef{
			{ID: "c1", Type: "key-auth", KeySHA256: hex.EncodeToString(sum[:])},
			{ID: "c2", Type: "jwt", Algorithm: "ES256", PublicKey: "PEM"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}

	if name, found := dir.ConsumerByKey("secret-key"); !found || name != "alice" {
		t.Errorf("ConsumerByKey(secret-key) = %q, %v; want alice", name, found)
	}
	if name, found := dir.ConsumerByKey("secret-kez"); found {
		t.Errorf("ConsumerByKey(secret-kez) = %q; want no consumer", name)
	}
	if !dir.ConsumerExists("alice") || dir.ConsumerExists("bob") {
		t.Errorf("ConsumerExists: alice %v, bob %v; want true, false", dir.ConsumerExists("alice"), dir.ConsumerExists("bob"))
	}
	if keys := dir.ConsumerKeys("alice"); len(keys) != 1 || keys[0].Algorithm != "ES256" {
		t.Errorf("ConsumerKeys(alice) = %v, want the one ES256 key", keys)
	}
}

func TestConsumerChainBuiltOnce(t *testing.T) {
	b := validBundle()
	b.Consumers = []bundle.Consumer{{Name: "alice"}}
	b.Bindings = append(b.Bindings, config.Binding{ID: "alice-log", Plugin: "log", Version: "2.0.0", Consumer: "alice"})
	rt, err := Build(b, chain.NewCompiler(0))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	route, _ := rt.Match("GET", "/api")

	const readers = 8
	chains := make([]*chain.Chain, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() { chains[i] = route.ChainFor("alice") })
	}
	wg.Wait()
	for i, got := range chains {
		if got != chains[0] {
			t.Errorf("ChainFor(alice) call %d returned another chain than call 0", i)
		}
	}
	if chains[0] == route.Chain {
		t.Errorf("ChainFor(alice) = the route's chain, want alice's own")
	}
	if got := route.ChainFor("bob"); got != route.Chain {
		t.Errorf("ChainFor(bob) without bindings = %p, want the route's chain %p", got, route.Chain)
	}
}
