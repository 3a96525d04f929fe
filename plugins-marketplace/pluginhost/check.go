package pluginhost

import (
	"errors"
	"fmt"
	"strings"
)

// CheckExchange rejects the values that a hook of phase may not leave in
// ex. Those are an exit in body_filter, an exit status that is not final,
// and in header_filter a response status that is not final (RFC 9110
// section 15: 1xx statuses are interim). A request path must start with
// "/". The edge calls it after every hook, in-process and in workers.
// The host functions check the rest when a hook calls them, in both tiers
// alike: the response fields that the edge manages (setHeader) and the
// sizes of what a hook sets (limits.go).
func CheckExchange(phase Phase, ex *Exchange) error {
	if ex.Exit != nil && phase == PhaseBodyFilter {
		return errors.New("ctx.exit is not allowed in body_filter: change the body with ctx.resp.set_chunk")
	}
	if ex.Exit != nil && !isFinalStatus(ex.Exit.Status) {
		return fmt.Errorf("exit status %d is invalid: use 200 to 599", ex.Exit.Status)
	}
	if phase == PhaseHeaderFilter && !isFinalStatus(ex.Response.Status) {
		return fmt.Errorf("response status %d is invalid: use 200 to 599", ex.Response.Status)
	}
	if !strings.HasPrefix(ex.Request.Path, "/") {
		return fmt.Errorf("request path %q is invalid: it must start with \"/\"", ex.Request.Path)
	}
	return nil
}

func isFinalStatus(status int) bool {
	return status >= 200 && status <= 599
}
