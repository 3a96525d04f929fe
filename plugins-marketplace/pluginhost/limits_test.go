package pluginhost

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// runWithFill runs the hook body in phase with the request header X-Fill
// set to size bytes, which the body reads as fill.
func runWithFill(t *testing.T, phase Phase, body string, size int) (*Exchange, error) {
	t.Helper()
	source := "func " + string(phase) + "(ctx, conf) {\n  fill := ctx.req.header(\"X-Fill\")\n  " + body + "\n}"
	instance := mustBind(t, source, "")
	ex := upstreamExchange()
	ex.Request.Header.Set("X-Fill", strings.Repeat("x", size))
	if phase == PhaseBodyFilter {
		ex.Response.Chunk = []byte("chunk")
		ex.Response.EOF = true
	}
	return ex, instance.Run(context.Background(), phase, ex)
}

func TestExchangeValueLimits(t *testing.T) {
	tests := []struct {
		name    string
		phase   Phase
		body    string
		limit   int
		wantErr string
	}{
		{"exit body", PhaseAccess, `ctx.exit(403, fill)`, MaxExitBody, "ctx.exit: body of 1048577 bytes is above the limit of 1048576 bytes"},
		{"request header field", PhaseAccess, `ctx.req.set_header("X-A", fill)`, MaxHeaderField - len("X-A"), `ctx.req.set_header: header "X-A" of 8193 bytes is above the limit of 8192 bytes`},
		{"response header field", PhaseHeaderFilter, `ctx.resp.set_header("X-A", fill)`, MaxHeaderField - len("X-A"), `ctx.resp.set_header: header "X-A" of 8193 bytes is above the limit of 8192 bytes`},
		{"path", PhaseRewrite, `ctx.req.set_path("/" + fill)`, MaxPath - 1, "ctx.req.set_path: path of 8193 bytes is above the limit of 8192 bytes"},
		{"chunk", PhaseBodyFilter, `ctx.resp.set_chunk(fill)`, MaxChunk, "ctx.resp.set_chunk: chunk of 4194305 bytes is above the limit of 4194304 bytes"},
		{"ctx.http body", PhaseAccess, `ctx.http.request("POST", "http://127.0.0.1:1/", {"body": fill})`, MaxFetchRequestBody, "ctx.http.request: body of 1048577 bytes is above the limit of 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" above", func(t *testing.T) {
			_, err := runWithFill(t, tt.phase, tt.body, tt.limit+1)

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Run() error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
		if tt.name == "ctx.http body" {
			// Without a host, a body within the limit fails later.
			continue
		}
		t.Run(tt.name+" at the limit", func(t *testing.T) {
			if _, err := runWithFill(t, tt.phase, tt.body, tt.limit); err != nil {
				t.Errorf("Run() error = %v, want nil", err)
			}
		})
	}
}

func TestExitBodyAboveLimitKeepsNoExit(t *testing.T) {
	ex, err := runWithFill(t, PhaseHeaderFilter, `ctx.exit(502, fill)`, MaxExitBody+1)

	if err == nil {
		t.Fatal("Run() error = nil, want the exit body rejected")
	}
	if ex.Exit != nil {
		t.Errorf("Exit = status %d with %d bytes, want none", ex.Exit.Status, len(ex.Exit.Body))
	}
}

func TestHeaderTotalLimit(t *testing.T) {
	// The request starts with Accept and X-Fill, 8027 bytes. Each new
	// field has a 10-byte name and an 8000-byte value, so 31 of them fit
	// in MaxHeaderBytes and the 32nd does not.
	ex, err := runWithFill(t, PhaseAccess, `for i := 0; i < 40; i++ {
    ctx.req.set_header(sprintf("X-Fill-%03d", i), fill)
  }`, 8000)

	if err == nil || !strings.Contains(err.Error(), `header "X-Fill-031" would make the header 264348 bytes`) {
		t.Fatalf("Run() error = %v, want the 32nd field rejected", err)
	}
	if !strings.Contains(err.Error(), "above the limit of 262144 bytes") {
		t.Errorf("Run() error = %v, want it to name the limit", err)
	}
	if got := headerBytes(ex.Request.Header); got > MaxHeaderBytes {
		t.Errorf("request header = %d bytes, want at most %d", got, MaxHeaderBytes)
	}
	if got := ex.Request.Header.Get("X-Fill-030"); len(got) != 8000 {
		t.Errorf("X-Fill-030 has %d bytes, want the 8000 set before the limit", len(got))
	}
	if _, ok := ex.Request.Header["X-Fill-031"]; ok {
		t.Error("X-Fill-031 is set, want it rejected")
	}
}

func TestHeaderTotalLimitAcrossCalls(t *testing.T) {
	// Each call adds 20 fields of 8010 bytes to the request header, so the
	// second call crosses MaxHeaderBytes with the size the first one left.
	source := `func access(ctx, conf) {
  fill := ctx.req.header("X-Fill")
  base := len(ctx.req.header("X-Fill-000")) > 0 ? 20 : 0
  for i := 0; i < 20; i++ {
    ctx.req.set_header(sprintf("X-Fill-%03d", base + i), fill)
  }
}`
	instance := mustBind(t, source, "")
	ex := upstreamExchange()
	ex.Request.Header.Set("X-Fill", strings.Repeat("x", 8000))

	if err := instance.Run(context.Background(), PhaseAccess, ex); err != nil {
		t.Fatalf("first Run() error = %v, want 20 fields to fit", err)
	}
	err := instance.Run(context.Background(), PhaseAccess, ex)
	if err == nil || !strings.Contains(err.Error(), `header "X-Fill-031" would make the header`) {
		t.Errorf("second Run() error = %v, want the 32nd field rejected", err)
	}
	if got := headerBytes(ex.Request.Header); got > MaxHeaderBytes {
		t.Errorf("request header = %d bytes, want at most %d", got, MaxHeaderBytes)
	}
}

func TestHeaderTotalCountsDeletes(t *testing.T) {
	ex, err := runWithFill(t, PhaseAccess, `for i := 0; i < 40; i++ {
    name := sprintf("X-Fill-%03d", i)
    ctx.req.set_header(name, fill)
    ctx.req.del_header(name)
  }
  ctx.req.set_header("X-Last", fill)`, 8000)

	if err != nil {
		t.Fatalf("Run() error = %v, want deleted fields to free their bytes", err)
	}
	if got := len(ex.Request.Header.Get("X-Last")); got != 8000 {
		t.Errorf("X-Last has %d bytes, want 8000", got)
	}
}

func TestHeaderAboveLimitFromUpstream(t *testing.T) {
	source := `func header_filter(ctx, conf) {
  ctx.resp.set_header("X-Big-0", "short")
  ctx.resp.del_header("X-Big-1")
  ctx.resp.set_header("X-Added", "1")
}`
	instance := mustBind(t, source, "")
	ex := upstreamExchange()
	for i := range 40 {
		ex.Response.Header.Set("X-Big-"+strconv.Itoa(i), strings.Repeat("u", 8000))
	}

	err := instance.Run(context.Background(), PhaseHeaderFilter, ex)

	if err == nil || !strings.Contains(err.Error(), `header "X-Added" would make the header`) {
		t.Fatalf("Run() error = %v, want only the growing field rejected", err)
	}
	if got := ex.Response.Header.Get("X-Big-0"); got != "short" {
		t.Errorf("X-Big-0 = %q, want the shorter value that replaced it", got)
	}
	if _, ok := ex.Response.Header["X-Big-1"]; ok {
		t.Error("X-Big-1 is still set, want it deleted")
	}
}

func TestVarsLimit(t *testing.T) {
	// The map counts 8 bytes, "earlier": "kept" 11 more, and the key "k" 1.
	atLimit := MaxVarsBytes - scalarBytes - 11 - 1
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"at the limit", atLimit, false},
		{"above the limit", atLimit + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := `func access(ctx, conf) {
  ctx.vars["k"] = ctx.req.header("X-Fill")
}`
			instance := mustBind(t, source, "")
			ex := newExchange()
			ex.Request.Header.Set("X-Fill", strings.Repeat("v", tt.size))
			ex.Vars = map[string]any{"earlier": "kept"}

			err := instance.Run(context.Background(), PhaseAccess, ex)

			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Run() error = %v, want nil", err)
				}
				if got, _ := ex.Vars["k"].(string); len(got) != tt.size {
					t.Errorf("ctx.vars[k] has %d bytes, want %d", len(got), tt.size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "ctx.vars: the map is above the limit of 65536 bytes") {
				t.Fatalf("Run() error = %v, want the ctx.vars limit", err)
			}
			if _, ok := ex.Vars["k"]; ok || ex.Vars["earlier"] != "kept" {
				t.Errorf("Vars = %d entries with k %v, want the earlier map kept", len(ex.Vars), ok)
			}
		})
	}
}

func TestVarsBytes(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  int
	}{
		{"string", "abc", 3},
		{"int", int64(7), scalarBytes},
		{"nil", nil, scalarBytes},
		{"list", []any{"ab", true}, scalarBytes + 2 + scalarBytes},
		{"map", map[string]any{"key": "value", "n": 1.5}, scalarBytes + 3 + 5 + 1 + scalarBytes},
		{"nested", map[string]any{"l": []any{map[string]any{}}}, scalarBytes + 1 + scalarBytes + scalarBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlainBytes(tt.value, MaxVarsBytes); got != tt.want {
				t.Errorf("PlainBytes() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestVarsBytesStopsAboveLimit(t *testing.T) {
	items := make([]any, 1000)
	for i := range items {
		items[i] = strings.Repeat("s", 100)
	}

	got := PlainBytes(items, 1000)

	if got <= 1000 {
		t.Errorf("PlainBytes() = %d, want above the limit of 1000", got)
	}
	if got > 1000+100+scalarBytes {
		t.Errorf("PlainBytes() = %d, want it to stop counting right after the limit", got)
	}
}

func TestHeaderBytes(t *testing.T) {
	h := http.Header{"A": {"12", "345"}, "Bc": {""}}

	if got, want := headerBytes(h), (1+2)+(1+3)+(2+0); got != want {
		t.Errorf("headerBytes() = %d, want %d", got, want)
	}
}
