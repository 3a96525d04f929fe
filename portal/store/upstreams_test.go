package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"portcullis.dev/portal/secrets"
	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/testcert"
)

// openUpstreamStore opens a store on dataSource, with a secret key when
// withKey is set.
func openUpstreamStore(t *testing.T, dataSource string, withKey bool) *Store {
	t.Helper()
	opts := Options{Compiler: fakeCompile}
	if withKey {
		key, err := secrets.NewKey()
		if err != nil {
			t.Fatalf("NewKey: %v", err)
		}
		if opts.Secrets, err = secrets.NewBox(key); err != nil {
			t.Fatalf("NewBox: %v", err)
		}
	}
	s, err := Open(context.Background(), dataSource, opts)
	if err != nil {
		t.Fatalf("Open(%q) error = %v", RedactURL(dataSource), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// selfSigned returns a PEM certificate with the common name and its PEM
// private key.
func selfSigned(t *testing.T, name string) (string, string) {
	t.Helper()
	cert := testcert.Issue(t, nil, testcert.Options{CommonName: name})
	return cert.CertificatePEM, cert.PrivateKeyPEM
}

// fullUpstream sets every upstream field.
func fullUpstream(t *testing.T) config.Upstream {
	t.Helper()
	cert, key := selfSigned(t, "edge")
	return config.Upstream{
		Name:     "secure",
		Targets:  []config.Target{{URL: "https://127.0.0.1:9443", Weight: 2}, {URL: "https://127.0.0.1:9444", Weight: 1}},
		Balance:  config.BalanceConsistentHash,
		HashOn:   config.HashOnCookie,
		HashKey:  "session",
		Retries:  new(2),
		Protocol: config.ProtocolH2,
		TLS:      &config.UpstreamTLS{CAPEM: cert, ClientCertPEM: cert, ClientKeyPEM: key, ServerName: "api.internal"},
		HealthCheck: &config.HealthCheck{
			Active:  &config.ActiveCheck{Path: "/healthz", IntervalMS: 5000, TimeoutMS: 1000, HealthyThreshold: 2, UnhealthyThreshold: 3, ExpectedStatuses: []int{200, 204}},
			Passive: &config.PassiveCheck{MaxFailures: 5, WindowMS: 10000, CooldownMS: 30000},
		},
	}
}

// withoutKey is the view of upstream that the API returns.
func withoutKey(upstream config.Upstream) config.Upstream {
	tls := *upstream.TLS
	tls.ClientKeyPEM, tls.ClientKeySet = "", true
	upstream.TLS = &tls
	return upstream
}

func TestUpstreamSettingsRoundTrip(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openUpstreamStore(t, dialect.open(t), true)
			seedTenant(t, s, "acme")
			ctx := context.Background()
			input := fullUpstream(t)
			want := withoutKey(input)

			created, err := s.CreateUpstream(ctx, "acme", input)
			if err != nil {
				t.Fatalf("CreateUpstream() error = %v", err)
			}
			got, err := s.GetUpstream(ctx, "acme", "secure")
			if err != nil {
				t.Fatalf("GetUpstream() error = %v", err)
			}
			list, err := s.ListUpstreams(ctx, "acme")
			if err != nil || len(list) != 2 {
				t.Fatalf("ListUpstreams() = %d upstreams, %v; want 2", len(list), err)
			}
			for name, value := range map[string]config.Upstream{"create": created, "get": got, "list": list[1]} {
				if !reflect.DeepEqual(value, want) {
					t.Errorf("%s returned\n%+v\nwant\n%+v", name, value, want)
				}
			}

			// The seeded upstream without settings reads back with none.
			if plain := list[0]; plain.Balance != "" || plain.TLS != nil || plain.HealthCheck != nil || plain.Retries != nil {
				t.Errorf("upstream without settings reads back as %+v", plain)
			}
		})
	}
}

func TestUpstreamClientKeyIsSealed(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openUpstreamStore(t, dialect.open(t), true)
			seedTenant(t, s, "acme")
			ctx := context.Background()
			input := fullUpstream(t)
			if _, err := s.CreateUpstream(ctx, "acme", input); err != nil {
				t.Fatalf("CreateUpstream() error = %v", err)
			}

			var stored upstreamRecord
			if err := s.reader.Where("name = ?", "secure").First(&stored).Error; err != nil {
				t.Fatalf("read row: %v", err)
			}
			if stored.ClientKeySealed == "" || strings.Contains(stored.ClientKeySealed+stored.Settings, "PRIVATE KEY") {
				t.Errorf("row holds the client key in clear text or not at all: sealed %q", stored.ClientKeySealed)
			}

			built, err := s.Bundle(ctx, "acme")
			if err != nil {
				t.Fatalf("Bundle() error = %v", err)
			}
			if got := built.Upstreams[1].TLS.ClientKeyPEM; got != input.TLS.ClientKeyPEM {
				t.Errorf("bundle client key = %q, want the key that was sent", got)
			}
		})
	}
}

func TestUpdateUpstreamClientKey(t *testing.T) {
	s := openUpstreamStore(t, "sqlite://"+t.TempDir()+"/portal.db", true)
	seedTenant(t, s, "acme")
	ctx := context.Background()
	input := fullUpstream(t)
	if _, err := s.CreateUpstream(ctx, "acme", input); err != nil {
		t.Fatalf("CreateUpstream() error = %v", err)
	}
	bundleKey := func() string {
		t.Helper()
		built, err := s.Bundle(ctx, "acme")
		if err != nil {
			t.Fatalf("Bundle() error = %v", err)
		}
		if built.Upstreams[1].TLS == nil {
			return ""
		}
		return built.Upstreams[1].TLS.ClientKeyPEM
	}

	// The GET view sent back unchanged keeps the stored key.
	view := withoutKey(input)
	view.Retries = new(4)
	updated, err := s.UpdateUpstream(ctx, "acme", "secure", view)
	if err != nil {
		t.Fatalf("UpdateUpstream(keep key) error = %v", err)
	}
	if *updated.Retries != 4 || !updated.TLS.ClientKeySet || bundleKey() != input.TLS.ClientKeyPEM {
		t.Errorf("update with client_key_set lost the key or the change: %+v", updated.TLS)
	}

	// A new certificate needs its own key.
	otherCert, otherKey := selfSigned(t, "other")
	mismatched := withoutKey(input)
	mismatched.TLS.ClientCertPEM = otherCert
	_, err = s.UpdateUpstream(ctx, "acme", "secure", mismatched)
	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) || fieldErr.Field != "tls.client_cert_pem" {
		t.Errorf("update with another certificate and the stored key: error = %v, want a tls.client_cert_pem field error", err)
	}
	mismatched.TLS.ClientKeyPEM = otherKey
	if _, err := s.UpdateUpstream(ctx, "acme", "secure", mismatched); err != nil || bundleKey() != otherKey {
		t.Errorf("update with a new pair: error = %v, want the new key in the bundle", err)
	}

	// Without TLS the key is gone.
	plain := input
	plain.TLS, plain.Protocol = nil, ""
	if _, err := s.UpdateUpstream(ctx, "acme", "secure", plain); err != nil || bundleKey() != "" {
		t.Errorf("update without TLS: error = %v, want no key left", err)
	}
}

func TestUpstreamClientKeyNeedsSecretKey(t *testing.T) {
	s := openUpstreamStore(t, "sqlite://"+t.TempDir()+"/portal.db", false)
	seedTenant(t, s, "acme")

	_, err := s.CreateUpstream(context.Background(), "acme", fullUpstream(t))
	if !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("CreateUpstream() error = %v, want ErrNoSecretKey", err)
	}
}

func TestCreateUpstreamRejectsKeySetWithoutKey(t *testing.T) {
	s := openUpstreamStore(t, "sqlite://"+t.TempDir()+"/portal.db", true)
	seedTenant(t, s, "acme")

	_, err := s.CreateUpstream(context.Background(), "acme", withoutKey(fullUpstream(t)))
	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) || fieldErr.Field != "tls.client_key_pem" {
		t.Errorf("CreateUpstream() error = %v, want a tls.client_key_pem field error", err)
	}
}

func TestUpstreamSettingsJSONLeavesKeyOut(t *testing.T) {
	input := fullUpstream(t)
	encoded, err := encodeSettings(&input)
	if err != nil {
		t.Fatalf("encodeSettings: %v", err)
	}
	var decoded map[string]any
	if err := json.Unmarshal([]byte(encoded), &decoded); err != nil {
		t.Fatalf("settings are not JSON: %v", err)
	}
	if strings.Contains(encoded, "client_key") {
		t.Errorf("settings JSON mentions the client key: %s", encoded)
	}
	if input.TLS.ClientKeyPEM == "" {
		t.Error("encodeSettings cleared the caller's key")
	}
}

func TestRouteTimeoutsRoundTrip(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openUpstreamStore(t, dialect.open(t), false)
			seedTenant(t, s, "acme")
			ctx := context.Background()
			want := config.Timeouts{ConnectMS: 250, ResponseHeaderMS: 1500, IdleMS: 30000}

			route := config.Route{Name: "slow", Paths: []string{"/slow"}, Upstream: "backend", Timeouts: want}
			if _, err := s.CreateRoute(ctx, "acme", route); err != nil {
				t.Fatalf("CreateRoute() error = %v", err)
			}
			got, err := s.GetRoute(ctx, "acme", "slow")
			if err != nil || got.Timeouts != want {
				t.Fatalf("GetRoute() timeouts = %+v, %v; want %+v", got.Timeouts, err, want)
			}

			route.Timeouts = config.Timeouts{IdleMS: 5000}
			if _, err := s.UpdateRoute(ctx, "acme", "slow", route); err != nil {
				t.Fatalf("UpdateRoute() error = %v", err)
			}
			built, err := s.Bundle(ctx, "acme")
			if err != nil {
				t.Fatalf("Bundle() error = %v", err)
			}
			for _, bundled := range built.Routes {
				if bundled.Name == "slow" && bundled.Timeouts != route.Timeouts {
					t.Errorf("bundle route timeouts = %+v, want %+v", bundled.Timeouts, route.Timeouts)
				}
			}
		})
	}
}

func TestListUpstreamPageFilter(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			seedTenant(t, s, "acme")
			for _, name := range []string{"api-a", "api-b", "Legacy", "web_x"} {
				upstream := config.Upstream{Name: name, Targets: []config.Target{{URL: "http://127.0.0.1:9999", Weight: 1}}}
				if _, err := s.CreateUpstream(ctx, "acme", upstream); err != nil {
					t.Fatalf("CreateUpstream(%q) error = %v", name, err)
				}
			}

			tests := []struct {
				name   string
				page   Page
				filter UpstreamFilter
				want   string
				more   bool
			}{
				{name: "contains", filter: UpstreamFilter{NameContains: "api"}, want: "[api-a api-b]"},
				{name: "filter without case", filter: UpstreamFilter{NameContains: "API"}, want: "[api-a api-b]"},
				{name: "name without case", filter: UpstreamFilter{NameContains: "legacy"}, want: "[Legacy]"},
				{name: "underscore literal", filter: UpstreamFilter{NameContains: "_"}, want: "[web_x]"},
				{name: "percent literal", filter: UpstreamFilter{NameContains: "%"}, want: "[]"},
				{name: "first filtered page", page: Page{Limit: 1}, filter: UpstreamFilter{NameContains: "api"}, want: "[api-a]", more: true},
				{name: "second filtered page", page: Page{After: "api-a", Limit: 1}, filter: UpstreamFilter{NameContains: "api"}, want: "[api-b]"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					upstreams, more, err := s.ListUpstreamPage(ctx, "acme", tt.page, tt.filter)
					if err != nil {
						t.Fatalf("ListUpstreamPage error = %v", err)
					}
					names := make([]string, len(upstreams))
					for i, upstream := range upstreams {
						names[i] = upstream.Name
					}
					if got := fmt.Sprint(names); got != tt.want {
						t.Errorf("names = %s, want %s", got, tt.want)
					}
					if more != tt.more {
						t.Errorf("more = %v, want %v", more, tt.more)
					}
				})
			}
		})
	}
}
