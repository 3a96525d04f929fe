package pluginhost

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// upstreamExchange returns an exchange in header_filter with a 20-byte
// upstream response whose header the edge's servers manage.
func upstreamExchange() *Exchange {
	ex := newExchange()
	ex.Response = Response{Status: http.StatusOK, Header: http.Header{
		"Content-Length": {"20"},
		"Content-Type":   {"text/plain"},
		"Date":           {"Mon, 02 Jan 2006 15:04:05 GMT"},
	}}
	return ex
}

func TestResponseSetHeaderRejectsEdgeManaged(t *testing.T) {
	names := []string{
		"Content-Length", "content-length", "Transfer-Encoding", "Connection", "Upgrade",
		"Keep-Alive", "TE", "Trailer", "Date", "Proxy-Connection",
	}
	for _, phase := range []Phase{PhaseAccess, PhaseHeaderFilter} {
		for _, name := range names {
			t.Run(string(phase)+" "+name, func(t *testing.T) {
				source := "func " + string(phase) + "(ctx, conf) {\n  ctx.resp.set_header(\"" + name + "\", \"5\")\n}"
				instance := mustBind(t, source, "")
				ex := upstreamExchange()
				before := ex.Response.Header.Clone()

				err := instance.Run(context.Background(), phase, ex)

				if err == nil || !strings.Contains(err.Error(), "is managed by the edge") {
					t.Fatalf("Run() error = %v, want the edge-managed header rejected", err)
				}
				if !strings.Contains(err.Error(), "ctx.resp.set_header") {
					t.Errorf("Run() error = %v, want it to name ctx.resp.set_header", err)
				}
				if got := ex.Response.Header; !maps.EqualFunc(got, before, slices.Equal) {
					t.Errorf("response header = %v, want it unchanged: %v", got, before)
				}
			})
		}
	}
}

func TestResponseDelHeaderRemovesEdgeManaged(t *testing.T) {
	instance := mustBind(t, `func header_filter(ctx, conf) {
  ctx.resp.del_header("content-length")
  ctx.resp.del_header("Date")
}`, "")
	ex := upstreamExchange()

	mustRun(t, instance, PhaseHeaderFilter, ex)

	for _, name := range []string{"Content-Length", "Date"} {
		if got, ok := ex.Response.Header[name]; ok {
			t.Errorf("%s = %q, want it removed", name, got)
		}
	}
	if got := ex.Response.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q, want %q", got, "text/plain")
	}
}

func TestRequestSetHeaderKeepsConnectionFields(t *testing.T) {
	// The edge's proxy removes connection fields from the upstream
	// request, so the request side accepts them.
	instance := mustBind(t, `func access(ctx, conf) {
  ctx.req.set_header("Connection", "close")
}`, "")
	ex := newExchange()

	mustRun(t, instance, PhaseAccess, ex)

	if got := ex.Request.Header.Get("Connection"); got != "close" {
		t.Errorf("request Connection = %q, want %q", got, "close")
	}
}

func TestSetHeaderCanonicalName(t *testing.T) {
	instance := mustBind(t, `func header_filter(ctx, conf) {
  ctx.resp.set_header("x-served-by", "one")
  ctx.resp.set_header("X-SERVED-BY", "two")
}`, "")
	ex := upstreamExchange()

	mustRun(t, instance, PhaseHeaderFilter, ex)

	if got := ex.Response.Header["X-Served-By"]; len(got) != 1 || got[0] != "two" {
		t.Errorf("X-Served-By = %q, want one value %q", got, "two")
	}
}
