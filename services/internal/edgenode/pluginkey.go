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
// the portal responds that it signs nothing. It fails when the portal
// rejects the edge token, and when neither the portal nor the cache has a
// key, so an edge never runs unchecked code because the portal was down
// at its first start.
func resolvePluginKey(cfg Config, dir *datadir.Dir, client *sync.Client, logger *slog.Logger) (ed25519.PublicKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pluginKeyTimeout)
	defer cancel()
	fetched, err := client.PluginKey(ctx)
	if errors.Is(err, sync.ErrUnauthorized) {
		return nil, fmt.Errorf("the portal at %s rejected the edge token: set --edge-token (env PORTCULLIS_EDGE_TOKEN) to a token from POST /api/v1/edge-tokens: %w", cfg.PortalURL, err)
	}

	if cfg.PluginPublicKey != "" {
		return configuredKey(cfg.PluginPublicKey, fetched, logger)
	}
	switch {
	case err == nil:
		if err := os.WriteFile(dir.File(pluginKeyFile), []byte(signing.EncodePublicKey(fetched)+"\n"), 0o600); err != nil {
			logger.Error("cache plugin public key", "error", err)
		}
		return fetched, nil
	case errors.Is(err, sync.ErrNoPluginKey):
		logger.Warn("portal signs no plugin versions, so plugin code runs unchecked")
		return nil, nil
	}

	cached, readErr := os.ReadFile(dir.File(pluginKeyFile))
	if readErr != nil {
		return nil, fmt.Errorf("no plugin public key: the portal at %s did not respond (%w) and %s contains no cached key: start the portal first, or pass --plugin-public-key", cfg.PortalURL, err, dir.File(pluginKeyFile))
	}
	logger.Warn("using the cached plugin public key because the portal did not respond", "error", err)
	return signing.ParsePublicKey(string(cached))
}

// configuredKey parses the key of --plugin-public-key, and warns when the
// portal returned another one, because then every signed version
// fails its check.
func configuredKey(text string, fetched ed25519.PublicKey, logger *slog.Logger) (ed25519.PublicKey, error) {
	key, err := signing.ParsePublicKey(text)
	if err != nil {
		return nil, fmt.Errorf("--plugin-public-key: %w", err)
	}
	if fetched != nil && !key.Equal(fetched) {
		logger.Warn("--plugin-public-key differs from the portal's plugin key, so the edge rejects every version the portal signs", "portal_key", signing.EncodePublicKey(fetched))
	}
	return key, nil
}
