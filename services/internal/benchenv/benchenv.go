// Package benchenv starts the benchmark set-up: an all-in-one server on free
// loopback ports, a fixed-response upstream on loopback, and tenants whose
// route runs a chain of light plugins, configured through the portal API.
package benchenv

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"portcullis.dev/edge/sandbox"
	"portcullis.dev/services/internal/allinone"
	"portcullis.dev/services/internal/apiclient"
	"portcullis.dev/services/internal/datadir"
	"portcullis.dev/tenants/netguard"
)

// upstreamBody is the response body of the benchmark upstream.
const upstreamBody = "ok\n"

// Env is a running benchmark set-up.
type Env struct {
	Server   *allinone.Server
	API      *apiclient.Client
	RootCAs  *x509.CertPool
	CertFile string
	// KeyFile is the private key of CertFile.
	KeyFile string
	// UpstreamURL is the fixed-response upstream, for direct reference runs.
	UpstreamURL  string
	upstream     *http.Server
	upstreamAddr netip.AddrPort
}

// Options tunes the benchmark set-up. The zero value runs every plugin
// inside the edge process.
type Options struct {
	// WorkerCommand starts a plugin worker process, such as
	// {executable, "worker"}. Empty turns the sandboxed tier off.
	WorkerCommand []string
}

// Start starts the upstream and the all-in-one server with its data in
// dataDir. Call Close when done.
func Start(ctx context.Context, dataDir string) (*Env, error) {
	return StartWith(ctx, dataDir, Options{})
}

// StartWith is Start with options.
func StartWith(ctx context.Context, dataDir string, opts Options) (*Env, error) {
	env := &Env{}
	if err := env.startUpstream(); err != nil {
		return nil, err
	}

	const token = "bench-operator-token-0123456789"
	var workers sandbox.Config
	if len(opts.WorkerCommand) > 0 {
		workers = sandbox.Config{MaxWorkers: sandbox.DefaultMaxWorkers, Command: opts.WorkerCommand}
		// As serve does, workers of a root process run as nobody.
		if os.Geteuid() == 0 {
			workers.User = &sandbox.User{UID: 65534, GID: 65534}
		}
	}
	// As serve does, the edge checks upstream addresses, and allows the
	// benchmark upstream's.
	guard := &netguard.Guard{Addresses: []netip.AddrPort{env.upstreamAddr}, Subject: "upstreams"}
	server, err := allinone.Start(ctx, allinone.Config{
		Role:          "all",
		PortalAddr:    "127.0.0.1:0",
		HTTPAddr:      "127.0.0.1:0",
		HTTPSAddr:     "127.0.0.1:0",
		AdminAddr:     "127.0.0.1:0",
		DataDir:       dataDir,
		BaseDomain:    "localhost",
		AdminToken:    token,
		Sandbox:       workers,
		UpstreamGuard: guard,
	})
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("start all-in-one server: %w", err)
	}
	env.Server = server
	env.API = &apiclient.Client{BaseURL: server.PortalURL(), Token: token}

	env.CertFile = filepath.Join(dataDir, datadir.DevCertFile)
	env.KeyFile = filepath.Join(dataDir, datadir.DevKeyFile)
	if env.RootCAs, err = loadRoots(env.CertFile); err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

func (e *Env) startUpstream() error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the upstream: %w", err)
	}
	e.upstream = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", strconv.Itoa(len(upstreamBody)))
			_, _ = w.Write([]byte(upstreamBody))
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	e.UpstreamURL = "http://" + listener.Addr().String()
	e.upstreamAddr = listener.Addr().(*net.TCPAddr).AddrPort()
	go func() { _ = e.upstream.Serve(listener) }()
	return nil
}

func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read development certificate: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("development certificate %q contains no PEM certificate", file)
	}
	return roots, nil
}

// Close stops the server and the upstream.
func (e *Env) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e.Server != nil {
		_ = e.Server.Shutdown(ctx)
	}
	if e.upstream != nil {
		_ = e.upstream.Shutdown(ctx)
	}
}

// TenantURL returns the edge URL of tenant for protocol "h1" (plain HTTP)
// or "h2" and "h3" (TLS port), with path.
func (e *Env) TenantURL(protocol, tenant, path string) string {
	addrs := e.Server.Edge().Addrs()
	if protocol == "h1" {
		_, port, _ := net.SplitHostPort(addrs.HTTP)
		return "http://" + tenant + ".localhost:" + port + path
	}
	address := addrs.HTTPS
	if protocol == "h3" {
		address = addrs.HTTP3
	}
	_, port, _ := net.SplitHostPort(address)
	return "https://" + tenant + ".localhost:" + port + path
}
