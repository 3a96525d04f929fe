package pluginhost

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// The error of a set_header that grows the header above MaxHeaderBytes
// names the header as the hook wrote it, as set_header's other errors do.
func TestHeaderAboveLimitNamesFieldAsWritten(t *testing.T) {
	source := `func header_filter(ctx, conf) {
  ctx.resp.set_header("x-added", "1")
}`
	instance := mustBind(t, source, "")
	ex := upstreamExchange()
	for i := range 40 {
		ex.Response.Header.Set("X-Big-"+strconv.Itoa(i), strings.Repeat("u", 8000))
	}

	err := instance.Run(context.Background(), PhaseHeaderFilter, ex)

	if err == nil || !strings.Contains(err.Error(), `header "x-added" would make the header`) {
		t.Fatalf("Run() error = %v, want it to name header \"x-added\"", err)
	}
}
