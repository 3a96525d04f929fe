package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"portcullis.dev/tenants/config"
)

// syncBuffer is a log destination that the store's goroutines may share.
type syncBuffer struct {
	mu   sync.Mutex
	data bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data.String()
}

// followStore is a store on one dialect whose BindingTester runs vectors,
// with its tester's run count and its log.
type followStore struct {
	*Store
	runs *atomic.Int64
	log  *syncBuffer
}

// openFollowStores runs test on a store of each dialect with a
// countingTester and the tenant "acme".
func openFollowStores(t *testing.T, test func(t *testing.T, s followStore)) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := followStore{runs: &atomic.Int64{}, log: &syncBuffer{}}
			logger := slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			opened, err := Open(context.Background(), dialect.open(t), Options{Compiler: fakeCompile, BindingTester: countingTester(s.runs), Logger: logger})
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			t.Cleanup(func() { opened.Close() })
			s.Store = opened
			createMarketTenant(t, opened, "acme")
			test(t, s)
		})
	}
}

// publishShow publishes the plugin "show" at version, with the vector
// marked binding_config that fails under {"show":false} when vectors is
// set, and without vectors otherwise.
func publishShow(t *testing.T, s *Store, version string, vectors bool) {
	t.Helper()
	input := NewPluginVersion{Name: "show", Version: version, Source: showSource, ConfigSchema: json.RawMessage(showSchema)}
	if vectors {
		input.TestVectors = json.RawMessage(showVectors)
	}
	if _, err := s.PublishPlugin(context.Background(), input); err != nil {
		t.Fatalf("PublishPlugin(show %s) error = %v", version, err)
	}
}

// bindFollower creates a tenant-wide binding of plugin in acme that
// follows the install, with config.
func bindFollower(t *testing.T, s *Store, plugin, config string) string {
	t.Helper()
	binding, err := s.CreateBinding(context.Background(), "acme", configBinding(plugin, config))
	if err != nil {
		t.Fatalf("CreateBinding(%s %s) error = %v", plugin, config, err)
	}
	return binding.ID
}

func configBinding(plugin, raw string) config.Binding {
	return config.Binding{Plugin: plugin, Config: json.RawMessage(raw)}
}

// wantBindingVersion fails the test unless the binding runs version.
func wantBindingVersion(t *testing.T, s *Store, id, version string) {
	t.Helper()
	binding, err := s.GetBinding(context.Background(), "acme", id)
	if err != nil {
		t.Fatalf("GetBinding(%s) error = %v", id, err)
	}
	if binding.Version != version {
		t.Errorf("binding %s runs %s, want %s", id, binding.Version, version)
	}
}

// wantFieldError fails the test unless err holds a field error on field
// whose message contains text.
func wantFieldError(t *testing.T, err error, field, text string) {
	t.Helper()
	for _, inner := range flattenErrors(err) {
		var fieldErr *config.FieldError
		if errors.As(inner, &fieldErr) && fieldErr.Field == field {
			if !strings.Contains(fieldErr.Message, text) {
				t.Errorf("message on %s = %q, want it to contain %q", field, fieldErr.Message, text)
			}
			return
		}
	}
	t.Errorf("error = %v, want a field error on %s", err, field)
}

func TestFollowHoldsBackFailingVectors(t *testing.T) {
	openFollowStores(t, func(t *testing.T, s followStore) {
		ctx := context.Background()
		publishShow(t, s.Store, "1.0.0", false)
		if _, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "show", Range: "^1.0"}); err != nil {
			t.Fatalf("CreateInstall(^1.0) error = %v", err)
		}
		hidingID := bindFollower(t, s.Store, "show", `{"show":false}`)
		showingID := bindFollower(t, s.Store, "show", `{"show":true}`)
		before := revisionOf(t, s.Store, "acme")

		publishShow(t, s.Store, "1.1.0", true)

		heldBack := heldBackInstall(t, s.Store, "show")
		if heldBack.Binding != hidingID {
			t.Errorf("held-back binding = %s, want %s, whose config hides X-Show", heldBack.Binding, hidingID)
		}
		if heldBack.Vector != "always shows the header" {
			t.Errorf("held-back vector = %q, want \"always shows the header\"", heldBack.Vector)
		}
		if !strings.Contains(heldBack.Message, "X-Show") {
			t.Errorf("held-back message = %q, want the vector's difference on X-Show", heldBack.Message)
		}
		if heldBack.At.IsZero() {
			t.Errorf("held-back time is zero")
		}
		if got := revisionOf(t, s.Store, "acme"); got != before {
			t.Errorf("revision after a held-back release = %d, want %d", got, before)
		}
		wantBindingVersion(t, s.Store, showingID, "1.0.0")
		logs := s.log.String()
		if !strings.Contains(logs, "install held back") {
			t.Errorf("log = %s\nwant the held-back install", logs)
		}
		if strings.Contains(logs, "X-Show") {
			t.Errorf("log = %s\nwant no vector differences, which can quote the binding's config", logs)
		}

		_, err := s.UpdateInstall(ctx, "acme", "show", InstallRequest{Version: "1.1.0"})
		wantFieldError(t, err, "bindings."+hidingID+".config", "always shows the header")
		install, err := s.GetInstall(ctx, "acme", "show")
		if err != nil {
			t.Fatalf("GetInstall() error = %v", err)
		}
		if install.Version != "1.0.0" {
			t.Errorf("install version after a rejected update = %s, want 1.0.0", install.Version)
		}
		if install.HeldBack == nil {
			t.Errorf("install after a rejected update = %+v, want 1.1.0 still held back", install)
		}
		if got := revisionOf(t, s.Store, "acme"); got != before {
			t.Errorf("revision after a rejected update = %d, want %d", got, before)
		}

		if _, err := s.UpdateBinding(ctx, "acme", hidingID, BindingPatch{Config: json.RawMessage(`{"show":true}`)}); err != nil {
			t.Fatalf("UpdateBinding(show true) error = %v", err)
		}
		runsBefore := s.runs.Load()
		publishShow(t, s.Store, "1.2.0", true)

		install, err = s.GetInstall(ctx, "acme", "show")
		if err != nil {
			t.Fatalf("GetInstall() error = %v", err)
		}
		if install.Version != "1.2.0" {
			t.Errorf("install version after the fix and 1.2.0 = %s, want 1.2.0", install.Version)
		}
		if install.HeldBack != nil {
			t.Errorf("held back after the fix and 1.2.0 = %+v, want none", install.HeldBack)
		}
		wantBindingVersion(t, s.Store, hidingID, "1.2.0")
		wantBindingVersion(t, s.Store, showingID, "1.2.0")
		if got := s.runs.Load() - runsBefore; got != 1 {
			t.Errorf("vector runs for two followers with one config = %d, want 1", got)
		}
	})
}

func TestRollbackRunsFollowerVectors(t *testing.T) {
	openFollowStores(t, func(t *testing.T, s followStore) {
		ctx := context.Background()
		publishShow(t, s.Store, "1.0.0", true)
		publishShow(t, s.Store, "1.1.0", false)
		if _, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "show", Version: "1.0.0"}); err != nil {
			t.Fatalf("CreateInstall(1.0.0) error = %v", err)
		}
		id := bindFollower(t, s.Store, "show", `{"show":true}`)
		if _, err := s.UpdateInstall(ctx, "acme", "show", InstallRequest{Version: "1.1.0"}); err != nil {
			t.Fatalf("UpdateInstall(1.1.0) error = %v", err)
		}
		if _, err := s.UpdateBinding(ctx, "acme", id, BindingPatch{Config: json.RawMessage(`{"show":false}`)}); err != nil {
			t.Fatalf("UpdateBinding(show false) on 1.1.0 without vectors: error = %v", err)
		}
		before := revisionOf(t, s.Store, "acme")

		_, err := s.RollbackInstall(ctx, "acme", "show")

		wantFieldError(t, err, "bindings."+id+".config", "always shows the header")
		install, err := s.GetInstall(ctx, "acme", "show")
		if err != nil {
			t.Fatalf("GetInstall() error = %v", err)
		}
		if install.Version != "1.1.0" {
			t.Errorf("install version after a rejected rollback = %s, want 1.1.0", install.Version)
		}
		wantBindingVersion(t, s.Store, id, "1.1.0")
		if got := revisionOf(t, s.Store, "acme"); got != before {
			t.Errorf("revision after a rejected rollback = %d, want %d", got, before)
		}
	})
}

func TestFollowHoldsBackSchemaMismatch(t *testing.T) {
	openFollowStores(t, func(t *testing.T, s followStore) {
		ctx := context.Background()
		mustPublish(t, s.Store, "auth", "1.0.0")
		if _, err := s.CreateInstall(ctx, "acme", InstallRequest{Plugin: "auth", Range: "^1"}); err != nil {
			t.Fatalf("CreateInstall(^1) error = %v", err)
		}
		id := bindFollower(t, s.Store, "auth", `{"greeting":"hi"}`)
		numeric := `{"type":"object","properties":{"greeting":{"type":"integer"}}}`
		if _, err := s.PublishPlugin(ctx, NewPluginVersion{Name: "auth", Version: "1.1.0", Source: "// auth 1.1.0\n", ConfigSchema: json.RawMessage(numeric)}); err != nil {
			t.Fatalf("PublishPlugin(auth 1.1.0) error = %v", err)
		}

		heldBack := heldBackInstall(t, s.Store, "auth")
		if heldBack.Binding != id {
			t.Errorf("held-back binding = %s, want %s", heldBack.Binding, id)
		}
		if heldBack.Vector != "" {
			t.Errorf("held-back vector = %q, want none for a schema mismatch", heldBack.Vector)
		}
		if !strings.Contains(heldBack.Message, "config.greeting") {
			t.Errorf("held-back message = %q, want the schema error on config.greeting", heldBack.Message)
		}

		_, err := s.UpdateInstall(ctx, "acme", "auth", InstallRequest{Range: "^1"})
		wantFieldError(t, err, "bindings."+id+".config.greeting", "config_schema")

		pinned, err := s.UpdateInstall(ctx, "acme", "auth", InstallRequest{Version: "1.0.0"})
		if err != nil {
			t.Fatalf("UpdateInstall(pin 1.0.0) error = %v", err)
		}
		if pinned.HeldBack != nil {
			t.Errorf("install after the tenant pinned it = %+v, want nothing held back", pinned)
		}
		stored, err := s.GetInstall(ctx, "acme", "auth")
		if err != nil {
			t.Fatalf("GetInstall() error = %v", err)
		}
		if stored.HeldBack != nil {
			t.Errorf("stored install after the tenant pinned it = %+v, want nothing held back", stored)
		}
	})
}

// heldBackInstall returns the held-back note of tenant acme's install of
// plugin, after a publish of 1.1.0 that its follower fails. It checks that
// the install stayed on 1.0.0 and that 1.1.0 is the held-back version.
func heldBackInstall(t *testing.T, s *Store, plugin string) *HeldBack {
	t.Helper()
	install, err := s.GetInstall(context.Background(), "acme", plugin)
	if err != nil {
		t.Fatalf("GetInstall() error = %v", err)
	}
	if install.Version != "1.0.0" {
		t.Errorf("install version after 1.1.0 = %s, want 1.0.0", install.Version)
	}
	heldBack := install.HeldBack
	if heldBack == nil {
		t.Fatalf("install after 1.1.0 = %+v, want 1.1.0 held back", install)
	}
	if heldBack.Version != "1.1.0" {
		t.Errorf("held-back version = %s, want 1.1.0", heldBack.Version)
	}
	return heldBack
}
