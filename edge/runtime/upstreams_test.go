package runtime

import (
	"strings"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func TestRoutesShareUpstreamWithOwnTimeouts(t *testing.T) {
	b := &bundle.Bundle{
		Tenant:   "acme",
		Revision: 1,
		Upstreams: []config.Upstream{{
			Name: "api", Targets: []config.Target{{URL: "http://127.0.0.1:9001"}, {URL: "http://127.0.0.1:9002"}},
			Balance: config.BalanceLeastConn, Retries: new(3), Protocol: config.ProtocolH2C,
		}},
		Routes: []config.Route{
			{Name: "fast", Paths: []string{"/fast"}, Upstream: "api", Timeouts: config.Timeouts{ResponseHeaderMS: 100}},
			{Name: "slow", Paths: []string{"/slow"}, Upstream: "api", Timeouts: config.Timeouts{ResponseHeaderMS: 30000}},
		},
	}
	rt, err := Build(b, chain.NewCompiler(0))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}

	routes := rt.Routes()
	fast, slow := routes[0].Balancer.Upstream, routes[1].Balancer.Upstream
	if fast.Timeouts.ResponseHeaderMS != 100 || slow.Timeouts.ResponseHeaderMS != 30000 {
		t.Errorf("route timeouts = %+v and %+v, want 100 and 30000 ms", fast.Timeouts, slow.Timeouts)
	}
	if fast.Tenant != "acme" || fast.Name != "api" || fast.Retries != 3 || fast.Protocol != config.ProtocolH2C {
		t.Errorf("upstream settings = %+v, want tenant acme, name api, 3 retries, h2c", fast)
	}
	if got := routes[0].Balancer.URLs(); len(got) != 2 || got[1] != "http://127.0.0.1:9002" {
		t.Errorf("target URLs = %v", got)
	}
}

func TestBuildRejectsInvalidUpstreamTLS(t *testing.T) {
	b := &bundle.Bundle{
		Tenant:    "acme",
		Revision:  1,
		Upstreams: []config.Upstream{{Name: "api", Targets: []config.Target{{URL: "https://127.0.0.1:9443"}}, TLS: &config.UpstreamTLS{CAPEM: "not PEM"}}},
		Routes:    []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}},
	}
	_, err := Build(b, chain.NewCompiler(0))
	if err == nil || !strings.Contains(err.Error(), `upstream "api"`) || !strings.Contains(err.Error(), "ca_pem") {
		t.Errorf("Build error = %v, want one naming upstream \"api\" and ca_pem", err)
	}
}
