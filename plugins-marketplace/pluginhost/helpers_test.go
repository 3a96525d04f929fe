package pluginhost

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// mustCompile compiles source as plugin "test" version "1.0.0".
func mustCompile(t testing.TB, source string) *Plugin {
	t.Helper()
	p, err := Compile("test", "1.0.0", source)
	if err != nil {
		t.Fatalf("Compile() error = %v", err)
	}
	return p
}

// mustBind compiles source and binds it to config.
func mustBind(t testing.TB, source, config string) *Instance {
	t.Helper()
	instance, err := mustCompile(t, source).Bind(json.RawMessage(config))
	if err != nil {
		t.Fatalf("Bind(%s) error = %v", config, err)
	}
	return instance
}

// newExchange returns a GET request for example.com/items?page=2 with an
// Accept header, before the upstream responded.
func newExchange() *Exchange {
	return &Exchange{
		Request: Request{
			Method:   http.MethodGet,
			Host:     "example.com",
			Path:     "/items",
			RawQuery: "page=2",
			Header:   http.Header{"Accept": {"application/json"}},
		},
	}
}

// mustRun runs phase on ex and fails the test on an error.
func mustRun(t testing.TB, instance *Instance, phase Phase, ex *Exchange) {
	t.Helper()
	if err := instance.Run(context.Background(), phase, ex); err != nil {
		t.Fatalf("Run(%s) error = %v", phase, err)
	}
}
