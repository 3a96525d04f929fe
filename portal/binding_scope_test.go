package portal_test

import (
	"net/http"
	"testing"
)

func TestBindingPatchToConsumerScope(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	tp.do("POST", "/api/v1/tenants/acme/consumers", map[string]any{"name": "mobile"}, http.StatusCreated)
	id := tp.createBinding("acme", map[string]any{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "hi"}})
	path := "/api/v1/tenants/acme/bindings/" + id
	before := tp.revision("acme")

	both := tp.send(request{method: "PATCH", path: path, body: map[string]any{"consumer": "mobile"}})
	checkProblem(t, both, http.StatusUnprocessableEntity, "consumer")
	if got := tp.revision("acme"); got != before {
		t.Errorf("revision after a refused patch = %d, want %d", got, before)
	}

	moved := decodeInto[map[string]any](t, tp.do("PATCH", path, map[string]any{"route": "", "consumer": "mobile"}, http.StatusOK))
	if moved["route"] != "" || moved["consumer"] != "mobile" {
		t.Errorf("patched binding = %v, want consumer mobile and no route", moved)
	}

	inUse := tp.send(request{method: "DELETE", path: "/api/v1/tenants/acme/consumers/mobile"})
	if got := checkProblem(t, inUse, http.StatusConflict, ""); len(got.Dependents) != 1 {
		t.Errorf("dependents = %q, want the one binding", got.Dependents)
	}
}
