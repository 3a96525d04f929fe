package sync

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"testing"
	"time"

	"portcullis.dev/edge/tlsconf"
)

func (p *fakePortal) domainIndex(w http.ResponseWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.domainCalls++
	_ = json.NewEncoder(w).Encode(map[string]any{"domains": maps.Clone(p.domains)})
}

func (p *fakePortal) addResourceEvent(position int64, tenant string, revision int64, kind, resource string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, Event{Position: position, Tenant: tenant, Revision: revision, Kind: kind, Resource: resource, Time: time.Now()})
}

func TestClientDomains(t *testing.T) {
	portal := startFakePortal(t)
	portal.set(func(p *fakePortal) { p.domains = map[string]string{"api.example.com": "acme"} })

	domains, err := portal.client(t).Domains(context.Background())
	if err != nil || len(domains) != 1 || domains["api.example.com"] != "acme" {
		t.Fatalf("Domains() = %v, %v; want api.example.com to acme", domains, err)
	}

	portal.set(func(p *fakePortal) { p.down = true })
	if _, err := portal.client(t).Domains(context.Background()); err == nil {
		t.Error("Domains() from a portal that returns 503: error = nil, want one")
	}
}

func TestAgentRefreshesDomainIndex(t *testing.T) {
	portal := startFakePortal(t)
	portal.set(func(p *fakePortal) { p.domains = map[string]string{"api.example.com": "acme"} })
	index := &tlsconf.Index{}

	client := portal.client(t)
	agent, err := NewAgent(AgentOptions{
		Client:     client,
		Source:     NewSource(SourceOptions{Client: client}),
		Invalidate: (&invalidations{}).record,
		Domains:    index,
		NodeID:     "test-1",
		Region:     "test",
		Heartbeat:  50 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("NewAgent() error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		agent.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	waitFor(t, "the first domain index", 2*time.Second, func() bool {
		slug, found := index.Lookup("api.example.com")
		return found && slug == "acme"
	})

	portal.set(func(p *fakePortal) {
		p.domains = map[string]string{"www.example.com": "globex"}
	})
	portal.addResourceEvent(1, "globex", 4, "update", "domain/www.example.com")
	waitFor(t, "the domain index after a domain change", 2*time.Second, func() bool {
		_, stale := index.Lookup("api.example.com")
		slug, found := index.Lookup("www.example.com")
		return found && slug == "globex" && !stale
	})
}

func TestChangesDomains(t *testing.T) {
	tests := []struct {
		event Event
		want  bool
	}{
		{Event{Kind: "create", Resource: "domain/api.example.com"}, true},
		{Event{Kind: "update", Resource: "domain/api.example.com/certificate"}, true},
		{Event{Kind: "delete", Resource: "tenant/acme"}, true},
		{Event{Kind: "update", Resource: "tenant/acme"}, false},
		{Event{Kind: "create", Resource: "route/all"}, false},
	}
	for _, tt := range tests {
		if got := changesDomains(tt.event); got != tt.want {
			t.Errorf("changesDomains(%s %s) = %v, want %v", tt.event.Kind, tt.event.Resource, got, tt.want)
		}
	}
}
