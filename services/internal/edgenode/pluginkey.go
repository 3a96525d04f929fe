package edgenode

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"portcullis.dev/edge/sync"
	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/services/internal/datadir"
)

// pluginKeyFile caches the key fetched from the portal, so an edge that
// starts while the portal is down still verifies plugin signatures.
const pluginKeyFile = "edge-plugin-key.pub"

// pluginKeyTimeout bounds the fetch of the key at start.
const pluginKeyTimeout = 5 * time.Second

// resolvePluginKey returns the key that verifies plugin signatures: the
// configured one, else the portal's, else the copy cached from an earlier
// start. It returns nil, and the edge runs plugin code unchecked, only when
// the portal has no key or neither the portal nor the cache has one.
func resolvePluginKey(cfg Config, dir *datadir.Dir, client *sync.Client, logger *slog.Logger) (ed25519.PublicKey, error) {
	if cfg.PluginPublicKey != "" {
		key, err := signing.ParsePublicKey(cfg.PluginPublicKey)
		if err != nil {
			return nil, fmt.Errorf("--plugin-public-key: %w", err)
		}
		return key, nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), pluginKeyTimeout)
	defer cancel()
	key, err := client.PluginKey(ctx)
	switch {
	case err == nil:
		if err := os.WriteFile(dir.File(pluginKeyFile), []byte(signing.EncodePublicKey(key)+"\n"), 0o600); err != nil {
			logger.Error("cache plugin public key", "error", err)
		}
		return key, nil
	case errors.Is(err, sync.ErrNoPluginKey):
		logger.Warn("portal signs no plugin versions, so plugin code runs unchecked")
		return nil, nil
	}

	cached, readErr := os.ReadFile(dir.File(pluginKeyFile))
	if readErr != nil {
		logger.Error("no plugin public key: the portal did not respond and no key is cached, so plugin code runs unchecked", "error", err)
		return nil, nil
	}
	logger.Warn("using the cached plugin public key because the portal did not respond", "error", err)
	return signing.ParsePublicKey(string(cached))
}
