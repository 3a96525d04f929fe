package hostsvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// loopbackServices returns Services that let plugins reach 127.0.0.1, where
// the tests' httptest servers listen.
func loopbackServices() *Services {
	return New(nil, nil, WithOutboundAllow([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}))
}

// countingServer starts a server on 127.0.0.1 that responds with "pong",
// and returns it with the number of requests it received.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	hits := &atomic.Int64{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "pong")
	}))
	t.Cleanup(server.Close)
	return server, hits
}

func get(host pluginhost.Host, allow []string, url string) (pluginhost.OutboundResponse, error) {
	caller := pluginhost.Caller{Plugin: "p", AllowHosts: allow}
	return host.Fetch(context.Background(), caller, pluginhost.OutboundRequest{Method: "GET", URL: url, Timeout: time.Second})
}

func TestCheckDestinationClasses(t *testing.T) {
	services := New(nil, nil)

	tests := []struct {
		address   string
		wantClass string
	}{
		{address: "127.0.0.1:80", wantClass: "loopback"},
		{address: "127.1.2.3:6379", wantClass: "loopback"},
		{address: "[::1]:80", wantClass: "loopback"},
		{address: "10.1.2.3:80", wantClass: "private"},
		{address: "172.16.0.1:80", wantClass: "private"},
		{address: "172.31.255.255:80", wantClass: "private"},
		{address: "192.168.1.1:80", wantClass: "private"},
		{address: "[fd00::1]:80", wantClass: "private"},
		{address: "[fc00::1]:80", wantClass: "private"},
		{address: "169.254.169.254:80", wantClass: "link-local"},
		{address: "[fe80::1]:80", wantClass: "link-local"},
		{address: "[fe80::1%eth0]:80", wantClass: "link-local"},
		{address: "0.0.0.0:80", wantClass: "unspecified"},
		{address: "0.1.2.3:80", wantClass: "unspecified"},
		{address: "[::]:80", wantClass: "unspecified"},
		{address: "224.0.0.1:80", wantClass: "multicast"},
		{address: "[ff02::1]:80", wantClass: "multicast"},
		{address: "100.64.0.1:80", wantClass: "shared (carrier-grade NAT)"},
		{address: "100.127.255.255:80", wantClass: "shared (carrier-grade NAT)"},
		{address: "[::ffff:127.0.0.1]:80", wantClass: "loopback"},
		{address: "[::ffff:169.254.169.254]:80", wantClass: "link-local"},
		{address: "[::ffff:10.0.0.1]:80", wantClass: "private"},
		{address: "[64:ff9b::a9fe:a9fe]:80", wantClass: "link-local"},
		{address: "192.0.0.8:80", wantClass: "reserved"},
		{address: "198.18.0.1:80", wantClass: "reserved"},
		{address: "255.255.255.255:80", wantClass: "reserved"},
		{address: "[64:ff9b:1::7f00:1]:80", wantClass: "reserved"},
		{address: "[2002:7f00:1::1]:80", wantClass: "reserved"},
		{address: "[fec0::1]:80", wantClass: "reserved"},
		{address: "93.184.215.14:443"},
		{address: "100.128.0.1:80"},
		{address: "172.32.0.1:80"},
		{address: "[2606:4700::1111]:443"},
		{address: "[::ffff:93.184.215.14]:443"},
		{address: "[64:ff9b::5db8:d70e]:443"},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			err := services.checkDestination("tcp", tt.address, nil)
			if tt.wantClass == "" {
				if err != nil {
					t.Fatalf("checkDestination error = %v, want nil for a public address", err)
				}
				return
			}
			var blocked *BlockedAddressError
			if !errors.As(err, &blocked) {
				t.Fatalf("checkDestination error = %v, want a *BlockedAddressError", err)
			}
			if blocked.Class != tt.wantClass {
				t.Errorf("class = %q, want %q", blocked.Class, tt.wantClass)
			}
			phrase := "is a " + tt.wantClass + " address"
			if strings.ContainsAny(tt.wantClass[:1], "aeiou") {
				phrase = "is an " + tt.wantClass + " address"
			}
			if !strings.Contains(err.Error(), phrase) {
				t.Errorf("error %q does not contain %q", err, phrase)
			}
		})
	}
}

func TestCheckDestinationInvalidAddress(t *testing.T) {
	err := New(nil, nil).checkDestination("tcp", "not-an-address", nil)
	if err == nil || !strings.Contains(err.Error(), "not an IP address and port") {
		t.Errorf("checkDestination error = %v, want an invalid address error", err)
	}
}

func TestOutboundAllowNetworks(t *testing.T) {
	services := New(nil, nil, WithOutboundAllow([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"),
		// An unmasked prefix counts as its network, 192.168.1.0/24.
		netip.MustParsePrefix("192.168.1.77/24"),
	}))

	for _, address := range []string{"10.9.8.7:80", "127.0.0.1:6379", "[::ffff:10.0.0.1]:80", "192.168.1.1:80"} {
		if err := services.checkDestination("tcp", address, nil); err != nil {
			t.Errorf("checkDestination(%s) error = %v, want the allowed network to pass", address, err)
		}
	}
	for _, address := range []string{"127.0.0.2:80", "[::1]:80", "169.254.169.254:80", "192.168.2.1:80"} {
		if err := services.checkDestination("tcp", address, nil); err == nil {
			t.Errorf("checkDestination(%s) error = nil, want it blocked outside the allowed networks", address)
		}
	}
}

func TestFetchBlocksLoopbackByDefault(t *testing.T) {
	server, hits := countingServer(t)
	address := strings.TrimPrefix(server.URL, "http://")
	_, port, _ := net.SplitHostPort(address)
	host := New(nil, nil).Tenant("acme").Request(nil)

	t.Run("by address", func(t *testing.T) {
		_, err := get(host, []string{address}, server.URL+"/metrics")
		if err == nil {
			t.Fatal("Fetch error = nil, want the loopback destination rejected")
		}
		for _, want := range []string{address, "loopback", "--plugin-outbound-allow", "PORTCULLIS_PLUGIN_OUTBOUND_ALLOW"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Fetch error = %q, want it to name %q", err, want)
			}
		}
	})
	t.Run("by host name", func(t *testing.T) {
		// localhost resolves to a loopback address, which the dialer checks
		// after DNS, whatever name the URL carries.
		_, err := get(host, []string{"localhost:" + port}, "http://localhost:"+port+"/metrics")
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Fetch error = %v, want the resolved loopback address rejected", err)
		}
	})

	if got := hits.Load(); got != 0 {
		t.Errorf("server received %d requests, want none", got)
	}
}

func TestFetchOutboundAllow(t *testing.T) {
	server, hits := countingServer(t)
	address := strings.TrimPrefix(server.URL, "http://")

	other := New(nil, nil, WithOutboundAllow([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}))
	if _, err := get(other.Tenant("acme").Request(nil), []string{address}, server.URL+"/"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Fetch with only 10.0.0.0/8 allowed: error = %v, want the loopback destination rejected", err)
	}

	resp, err := get(loopbackServices().Tenant("acme").Request(nil), []string{address}, server.URL+"/")
	if err != nil {
		t.Fatalf("Fetch with 127.0.0.1/32 allowed: %v", err)
	}
	if resp.Status != http.StatusOK || string(resp.Body) != "pong" {
		t.Errorf("response = %d %q, want 200 pong", resp.Status, resp.Body)
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("server received %d requests, want 1", got)
	}
}

func TestFetchResponseHeaderLimit(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := 1024
		fmt.Sscan(r.URL.Query().Get("size"), &size)
		w.Header().Set("X-Large", strings.Repeat("h", size))
	}))
	t.Cleanup(server.Close)
	allow := []string{strings.TrimPrefix(server.URL, "http://")}
	host := loopbackServices().Tenant("acme").Request(nil)

	resp, err := get(host, allow, server.URL+"/?size=32768")
	if err != nil {
		t.Fatalf("Fetch of 32 KiB of headers: %v", err)
	}
	if got := len(resp.Header.Get("X-Large")); got != 32768 {
		t.Errorf("X-Large is %d bytes, want 32768", got)
	}

	_, err = get(host, allow, server.URL+fmt.Sprintf("/?size=%d", 1<<20))
	want := fmt.Sprintf("response headers of %q are above the limit of %d bytes", allow[0], MaxResponseHeaderBytes)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Fetch of 1 MiB of headers: error = %v, want it to contain %q", err, want)
	}
}

func TestFetchPerRequestLimit(t *testing.T) {
	server, hits := countingServer(t)
	allow := []string{strings.TrimPrefix(server.URL, "http://")}
	services := loopbackServices()
	host := services.Tenant("acme").Request(nil)

	for i := range MaxOutboundRequests {
		if _, err := get(host, allow, server.URL+"/"); err != nil {
			t.Fatalf("outbound request %d: %v", i+1, err)
		}
	}
	_, err := get(host, allow, server.URL+"/")
	want := fmt.Sprintf("exceeds the limit of %d per request", MaxOutboundRequests)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("outbound request %d: error = %v, want it to contain %q", MaxOutboundRequests+1, err, want)
	}
	if got := hits.Load(); got != MaxOutboundRequests {
		t.Errorf("server received %d requests, want %d", got, MaxOutboundRequests)
	}

	if _, err := get(services.Tenant("acme").Request(nil), allow, server.URL+"/"); err != nil {
		t.Errorf("first outbound request of the next request: %v, want its own count", err)
	}
}

func TestScriptHTTPLoopStopsAtLimit(t *testing.T) {
	server, hits := countingServer(t)
	address := strings.TrimPrefix(server.URL, "http://")
	source := `func access(ctx, conf) {
  for i := 0; i < 1000; i++ {
    ctx.http.get(conf["url"])
  }
}
`
	plugin, err := pluginhost.Compile("loop", "1.0.0", source)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	instance, err := plugin.BindWith([]byte(`{"url":"`+server.URL+`/"}`), pluginhost.BindOptions{Tenant: "acme", AllowHosts: []string{address}})
	if err != nil {
		t.Fatalf("BindWith: %v", err)
	}
	ex := &pluginhost.Exchange{Request: pluginhost.Request{Path: "/"}, Host: loopbackServices().Tenant("acme").Request(nil)}

	err = instance.Run(context.Background(), pluginhost.PhaseAccess, ex)
	if err == nil || !strings.Contains(err.Error(), "limit of 16 per request") {
		t.Errorf("Run error = %v, want the outbound request limit", err)
	}
	if got := hits.Load(); got != MaxOutboundRequests {
		t.Errorf("server received %d requests, want %d", got, MaxOutboundRequests)
	}
}
