package portal_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"portcullis.dev/portal"
)

// TestShutdownEndsServeThatJustStarted shuts the portal down right after
// Serve starts, and before it, when the server may not hold the listener
// yet. Serve must return in both cases.
func TestShutdownEndsServeThatJustStarted(t *testing.T) {
	for _, serveFirst := range []bool{true, false} {
		for round := range 10 {
			p, err := portal.New(portal.Config{
				DataSource: filepath.Join(t.TempDir(), "portal.db"),
				AdminToken: testToken,
				Compiler:   fakeCompile,
			})
			if err != nil {
				t.Fatalf("portal.New() error = %v", err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatalf("listen on 127.0.0.1:0: %v", err)
			}

			served := make(chan error, 1)
			serve := func() { served <- p.Serve(ln) }
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if serveFirst {
				go serve()
			}
			if err := p.Shutdown(ctx); err != nil {
				t.Errorf("round %d: Shutdown() error = %v", round, err)
			}
			if !serveFirst {
				go serve()
			}
			cancel()

			select {
			case <-served:
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d (Serve first: %t): Serve did not return after Shutdown", round, serveFirst)
			}
		}
	}
}
