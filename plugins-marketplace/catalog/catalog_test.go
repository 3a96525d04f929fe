package catalog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// minVectors is the fewest test vectors a catalogue plugin may have.
const minVectors = 4

// testRedis returns a client on DB 10 of the local Redis, flushed, or nil
// when no Redis responds, so the Redis vectors are skipped.
func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: 10})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		t.Logf("no Redis on 127.0.0.1:6379, skipping the Redis vectors: %v", err)
		return nil
	}
	if err := client.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush Redis DB 10: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func TestCatalogVectors(t *testing.T) {
	redisClient := testRedis(t)
	names := Names()
	if len(names) == 0 {
		t.Fatal("catalogue is empty, want the embedded plugins")
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			pkg, err := Load(name)
			if err != nil {
				t.Fatalf("Load(%q) error = %v", name, err)
			}
			if pkg.Manifest.Name != name {
				t.Errorf("manifest name = %q, want the folder name %q", pkg.Manifest.Name, name)
			}
			if len(pkg.Vectors) < minVectors {
				t.Errorf("vectors = %d, want at least %d", len(pkg.Vectors), minVectors)
			}

			results, err := pkg.Test(context.Background(), pluginpkg.RunOptions{Redis: redisClient})
			if err != nil {
				t.Fatalf("Test() error = %v", err)
			}
			for _, result := range results {
				if result.Outcome == pluginpkg.Failed {
					t.Errorf("vector %q failed: %s", result.Vector, strings.Join(result.Differences, "; "))
				}
			}
		})
	}
}

// TestCatalogBindingVectors runs the binding_config vectors under the
// config of every other vector, without Redis, as the edge's pre-flight
// would for a binding with that config. A binding vector that fails for a
// valid config keeps every change of such a binding from reaching the
// edge.
func TestCatalogBindingVectors(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			pkg, err := Load(name)
			if err != nil {
				t.Fatalf("Load(%q) error = %v", name, err)
			}
			plugin, err := pkg.Compile()
			if err != nil {
				t.Fatalf("Compile() error = %v", err)
			}

			for _, vector := range pkg.Vectors {
				if vector.BindingConfig {
					continue
				}
				results := pluginpkg.Run(context.Background(), plugin, pkg.Vectors, pluginpkg.RunOptions{BindingConfig: vector.Config, OnlyBindingConfig: true})
				if err := pluginpkg.FirstFailure(results); err != nil {
					t.Errorf("binding vectors with the config of %q, %s: %v", vector.Name, vector.Config, err)
				}
			}
		})
	}
}
