package sync

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"portcullis.dev/plugins-marketplace/signing"
)

// maxPluginKeyBytes caps the plugin key response.
const maxPluginKeyBytes = 4 << 10

// ErrNoPluginKey reports a portal that has no plugin signing key.
var ErrNoPluginKey = errors.New("portal has no plugin signing key")

// PluginKey fetches the portal's public key that verifies plugin
// signatures. It returns an error that wraps ErrNoPluginKey when the portal
// signs nothing, and ErrUnavailable when the portal does not respond.
func (c *Client) PluginKey(ctx context.Context) (ed25519.PublicKey, error) {
	response, err := c.do(ctx, c.http, http.MethodGet, "/plugin-key", nil)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("fetch plugin key: %w", ErrNoPluginKey)
	}
	if err := checkStatus(response); err != nil {
		return nil, fmt.Errorf("fetch plugin key: %w", err)
	}

	var answer struct {
		Algorithm string `json:"algorithm"`
		PublicKey string `json:"public_key"`
	}
	if err := json.NewDecoder(io.LimitReader(response.Body, maxPluginKeyBytes)).Decode(&answer); err != nil {
		return nil, fmt.Errorf("decode plugin key: %w", err)
	}
	if answer.Algorithm != "ed25519" {
		return nil, fmt.Errorf("plugin key algorithm is %q, want \"ed25519\"", answer.Algorithm)
	}
	return signing.ParsePublicKey(answer.PublicKey)
}
