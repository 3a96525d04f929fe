package pluginhost

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBindConfig(t *testing.T) {
	source := `func access(ctx, conf) { ctx.resp.set_header("X-Conf", string(conf)) }`
	tests := []struct {
		name   string
		config string
		want   string
	}{
		{"empty", "", "{}"},
		{"whitespace", "  \n", "{}"},
		{"null", "null", "{}"},
		{"empty object", "{}", "{}"},
		{"scalars", `{"header": "X-Team", "limit": 10, "ratio": 0.5, "on": true, "none": null}`,
			`{"header": "X-Team", "limit": 10, "none": nil, "on": true, "ratio": 0.5}`},
		{"nested", `{"keys": ["a", "b"], "limits": {"burst": 5}}`, `{"keys": ["a", "b"], "limits": {"burst": 5}}`},
		{"large integer stays int", `{"n": 9007199254740993}`, `{"n": 9007199254740993}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instance := mustBind(t, source, tt.config)
			ex := newExchange()

			mustRun(t, instance, PhaseAccess, ex)

			if got := ex.Response.Header.Get("X-Conf"); got != tt.want {
				t.Errorf("conf = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestConfigValueTypes(t *testing.T) {
	instance := mustBind(t, `
func access(ctx, conf) {
  ctx.resp.set_header("X-Types", sprintf("%s %s %s %s %s %s %s",
    type(conf.limit), type(conf.ratio), type(conf.exponent), type(conf.name), type(conf.on),
    type(conf["keys"]), type(conf.nested)))
}`, `{"limit": 3, "ratio": 1.5, "exponent": 1e3, "name": "n", "on": false, "keys": [], "nested": {}}`)
	ex := newExchange()

	mustRun(t, instance, PhaseAccess, ex)

	want := "int float float string bool list map"
	if got := ex.Response.Header.Get("X-Types"); got != want {
		t.Errorf("types = %q, want %q", got, want)
	}
}

func TestBindRejectsConfig(t *testing.T) {
	p := mustCompile(t, `func access(ctx, conf) {}`)
	tests := []struct {
		name    string
		config  string
		wantErr string
	}{
		{"array", `[1, 2]`, "config must be a JSON object, got an array"},
		{"string", `"on"`, "config must be a JSON object, got a string"},
		{"number", `42`, "config must be a JSON object, got a number"},
		{"boolean", `true`, "config must be a JSON object, got a boolean"},
		{"invalid JSON", `{"a": }`, "invalid config JSON"},
		{"trailing data", `{} {}`, "unexpected data after the top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instance, err := p.Bind(json.RawMessage(tt.config))

			if err == nil {
				t.Fatalf("Bind(%s) = %v, want an error", tt.config, instance)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Bind(%s) error = %q, want it to contain %q", tt.config, err, tt.wantErr)
			}
		})
	}
}

// TestConfigIsolation checks that a hook that changes conf, at any depth,
// does not change what the next call receives.
func TestConfigIsolation(t *testing.T) {
	instance := mustBind(t, `
func access(ctx, conf) {
  ctx.resp.set_header("X-Seen", string(conf))
  conf["limit"] = conf["limit"] + 1
  conf["keys"].append("injected")
  conf["nested"]["extra"] = true
  delete(conf, "name")
}`, `{"limit": 1, "keys": ["a"], "nested": {"n": 1}, "name": "x"}`)
	want := `{"keys": ["a"], "limit": 1, "name": "x", "nested": {"n": 1}}`

	for call := 0; call < 5; call++ {
		ex := newExchange()
		mustRun(t, instance, PhaseAccess, ex)

		if got := ex.Response.Header.Get("X-Seen"); got != want {
			t.Fatalf("call %d: conf = %s, want %s", call, got, want)
		}
	}
}

// TestConfigIsolationEachChange makes one kind of change per plugin, so
// that a VM's kept copy of conf must notice each change on its own.
func TestConfigIsolationEachChange(t *testing.T) {
	changes := map[string]string{
		"set top":        `conf["limit"] = 2`,
		"add top":        `conf["other"] = 1`,
		"delete top":     `delete(conf, "name")`,
		"append list":    `conf["keys"].append("b")`,
		"set list item":  `conf["keys"][0] = "z"`,
		"set nested":     `conf["nested"]["n"] = 2`,
		"add nested":     `conf["nested"]["m"] = 1`,
		"replace nested": `conf["nested"] = {"n": 1}`,
		"pop list":       `conf["keys"].pop(0)`,
		"swap key":       `delete(conf, "name"); conf["other"] = "x"`,
	}
	const config = `{"limit": 1, "keys": ["a"], "nested": {"n": 1}, "name": "x"}`
	const want = `{"keys": ["a"], "limit": 1, "name": "x", "nested": {"n": 1}}`

	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			instance := mustBind(t, `
func access(ctx, conf) {
  ctx.resp.set_header("X-Seen", string(conf))
  `+change+`
}`, config)

			for call := range 3 {
				ex := newExchange()
				mustRun(t, instance, PhaseAccess, ex)
				if got := ex.Response.Header.Get("X-Seen"); got != want {
					t.Fatalf("call %d: conf = %s, want %s", call, got, want)
				}
			}
		})
	}
}
