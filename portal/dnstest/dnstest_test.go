package dnstest

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"
)

// resolverFor returns a resolver that sends every query to the server.
func resolverFor(s *Server) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "udp", s.Addr())
		},
	}
}

func TestServerAnswersTXT(t *testing.T) {
	server := Start(t)
	server.SetTXT("_portcullis.API.Example.com", "first", "second")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	got, err := resolverFor(server).LookupTXT(ctx, "_portcullis.api.example.com")
	if err != nil {
		t.Fatalf("LookupTXT: %v", err)
	}
	slices.Sort(got)
	if want := []string{"first", "second"}; !slices.Equal(got, want) {
		t.Errorf("TXT records = %q, want %q (one record per value)", got, want)
	}
	if server.Queries() < 1 {
		t.Errorf("Queries() = %d after a lookup, want at least 1", server.Queries())
	}
}

func TestServerUnknownNameIsNXDOMAIN(t *testing.T) {
	server := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, err := resolverFor(server).LookupTXT(ctx, "missing.example.com")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("LookupTXT of an unknown name: err = %v, want a not-found DNS error", err)
	}
}
