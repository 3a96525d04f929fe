package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"portcullis.dev/edge/metrics"
	"portcullis.dev/tenants/config"
)

// TestMetricsCardinalityCapped floods the edge with more tenants and routes
// than the label caps allow, with unknown hosts and with distinct paths,
// and checks that every family with a tenant label stays within the caps
// and never carries a path.
func TestMetricsCardinalityCapped(t *testing.T) {
	const (
		tenants         = metrics.MaxTenants + 10
		routesPerTenant = metrics.MaxRoutes/metrics.MaxTenants + 1
		unknownHosts    = 200
		distinctPaths   = 100
	)
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource()
	for i := range tenants {
		var routes []config.Route
		for r := range routesPerTenant {
			routes = append(routes, config.Route{Name: fmt.Sprintf("r%d", r), Paths: []string{fmt.Sprintf("/r%d", r)}, Upstream: "api"})
		}
		source.put(tenantBundle(t, fmt.Sprintf("t%03d", i), 1, upstream.URL, routes, nil))
	}
	te := startEdge(t, source, nil)

	send := func(host, path string) {
		req, err := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+path, nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		req.Host = host
		resp, err := te.h1.Do(req)
		if err != nil {
			t.Fatalf("GET %s%s: %v", host, path, err)
		}
		_ = resp.Body.Close()
	}
	for i := range tenants {
		for r := range routesPerTenant {
			send(fmt.Sprintf("t%03d.localhost", i), fmt.Sprintf("/r%d/x", r))
		}
	}
	for i := range unknownHosts {
		send(fmt.Sprintf("flood%d.localhost", i), "/r0")
	}
	for i := range distinctPaths {
		send("t000.localhost", fmt.Sprintf("/flood/%d", i))
		send("t001.localhost", fmt.Sprintf("/r1/flood/%d", i))
	}

	families, err := te.MetricsRegistry().Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	// Named routes, NoRoute and OtherRoute of each admitted tenant, and
	// the pairs of NoTenant and OtherTenant.
	const maxPairs = metrics.MaxRoutes + 2*metrics.MaxTenants + 2
	checked := 0
	for _, family := range families {
		if !hasLabel(family, "tenant") {
			continue
		}
		checked++
		tenantsSeen, pairs := map[string]bool{}, map[string]bool{}
		for _, m := range family.Metric {
			tenant, route := labelValue(m, "tenant"), labelValue(m, "route")
			tenantsSeen[tenant] = true
			pairs[tenant+"/"+route] = true
			if strings.Contains(route, "flood") || strings.Contains(tenant, "flood") {
				t.Errorf("%s has a series labelled from the request: tenant %q route %q", family.GetName(), tenant, route)
			}
		}
		if len(tenantsSeen) > metrics.MaxTenants+2 {
			t.Errorf("%s has %d tenant labels, want at most %d", family.GetName(), len(tenantsSeen), metrics.MaxTenants+2)
		}
		if len(pairs) > maxPairs {
			t.Errorf("%s has %d tenant and route pairs, want at most %d", family.GetName(), len(pairs), maxPairs)
		}
		if family.GetName() == "portcullis_edge_requests_total" {
			checkOverflowUsed(t, tenantsSeen, pairs)
			if limit := maxPairs * 6 * 3; len(family.Metric) > limit {
				t.Errorf("%s has %d series, want at most %d", family.GetName(), len(family.Metric), limit)
			}
		}
	}
	if checked < 3 {
		t.Errorf("checked %d families with a tenant label, want the requests, duration and upstream families", checked)
	}
}

// checkOverflowUsed checks that the flood did reach the caps, so a passing
// test shows the caps at work.
func checkOverflowUsed(t *testing.T, tenants, pairs map[string]bool) {
	t.Helper()
	if !tenants[metrics.OtherTenant] {
		t.Errorf("no series of tenant %q after %d tenants", metrics.OtherTenant, metrics.MaxTenants+10)
	}
	if !tenants[metrics.NoTenant] {
		t.Errorf("no series of tenant %q after unknown hosts", metrics.NoTenant)
	}
	otherRoutes := 0
	for pair := range pairs {
		if strings.HasSuffix(pair, "/"+metrics.OtherRoute) && !strings.HasPrefix(pair, metrics.OtherTenant+"/") {
			otherRoutes++
		}
	}
	if otherRoutes == 0 {
		t.Errorf("no series of route %q after more than %d routes", metrics.OtherRoute, metrics.MaxRoutes)
	}
}

func hasLabel(family *dto.MetricFamily, name string) bool {
	return len(family.Metric) > 0 && labelValue(family.Metric[0], name) != ""
}

func labelValue(m *dto.Metric, name string) string {
	for _, pair := range m.Label {
		if pair.GetName() == name {
			return pair.GetValue()
		}
	}
	return ""
}
