package allinone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"portcullis.dev/services/demo"
	"portcullis.dev/services/internal/apiclient"
)

func (s *Server) startDemo(ctx context.Context) error {
	client := &apiclient.Client{BaseURL: s.PortalURL(), Token: s.adminToken}
	if err := demo.Seed(ctx, client, s.demoURL); err != nil {
		return err
	}
	s.cfg.Logger.Info("demo tenant ready", "tenant", demo.Tenant, "upstream", s.demoURL)
	return nil
}

// startDemoUpstream serves the demo tenant's upstream at DemoAddr, and lets
// the upstream guard reach its address, which is loopback by default. It
// runs before the edge starts, which takes the guard.
func (s *Server) startDemoUpstream() error {
	listener, err := net.Listen("tcp", s.cfg.DemoAddr)
	if err != nil {
		return fmt.Errorf("listen for the demo upstream on %q: %w (pick another with --demo-addr)", s.cfg.DemoAddr, err)
	}
	s.demoURL = "http://" + listener.Addr().String()
	if guard := s.cfg.UpstreamGuard; guard != nil {
		allowing := *guard
		allowing.Addresses = append(slices.Clone(guard.Addresses), listener.Addr().(*net.TCPAddr).AddrPort())
		s.cfg.UpstreamGuard = &allowing
	}

	s.demo = &http.Server{Handler: demo.Upstream("demo"), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.demo.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.failed <- fmt.Errorf("demo upstream: %w", err)
		}
	}()
	return nil
}

// publishCatalog publishes the first-party plugin catalogue through the
// portal's API, as --demo does, without the demo tenant.
func (s *Server) publishCatalog(ctx context.Context) error {
	client := &apiclient.Client{BaseURL: s.PortalURL(), Token: s.adminToken}
	if err := demo.PublishCatalog(ctx, client); err != nil {
		return fmt.Errorf("publish the plugin catalogue: %w", err)
	}
	s.cfg.Logger.Info("plugin catalogue published")
	return nil
}

// DemoInstructions returns the URLs and commands to try after --demo.
func (s *Server) DemoInstructions() string {
	var b strings.Builder
	host := demo.Tenant + "." + s.cfg.BaseDomain

	b.WriteString("\nPortcullis is running with the demo tenant. Try:\n\n")
	if s.edge == nil {
		b.WriteString("  (no edge runs in this role: start an edge to serve demo traffic)\n")
	}
	if s.edge != nil {
		addrs := s.edge.Addrs()
		if addrs.HTTP != "" {
			fmt.Fprintf(&b, "  curl -i http://%s:%s/hello\n", host, port(addrs.HTTP))
			fmt.Fprintf(&b, "  curl -i http://%s:%s/blocked\n", host, port(addrs.HTTP))
		}
		if addrs.HTTPS != "" {
			fmt.Fprintf(&b, "  curl -ik https://%s:%s/hello          (HTTP/2 over TLS, development certificate)\n", host, port(addrs.HTTPS))
		}
		if addrs.HTTP3 != "" {
			fmt.Fprintf(&b, "  HTTP/3 on UDP %s, advertised by the Alt-Svc header\n", port(addrs.HTTP3))
		}
	}
	fmt.Fprintf(&b, "\n  Portal: %s/\n", s.PortalURL())
	if s.cfg.AdminToken != "" {
		fmt.Fprintf(&b, "  API:    curl -H \"Authorization: Bearer $PORTCULLIS_ADMIN_TOKEN\" %s/api/v1/tenants\n", s.PortalURL())
	} else {
		fmt.Fprintf(&b, "  API:    curl -H \"Authorization: Bearer $(cat %s/admin-token)\" %s/api/v1/tenants\n", s.cfg.DataDir, s.PortalURL())
	}
	b.WriteString("\nPress Ctrl-C to stop.\n")
	return b.String()
}

func port(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return p
}
