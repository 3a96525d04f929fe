package pluginpkg

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/plugins-marketplace/pluginhost"
)

// response is the outcome of one request of a vector.
type response struct {
	status int
	header http.Header
	body   string
	err    error

	upstreamCalled bool
	upstreamPath   string
	upstreamHeader http.Header

	// consumer is the consumer that a hook identified.
	consumer string
}

// requestPhases run before the simulated upstream, in order.
var requestPhases = []pluginhost.Phase{pluginhost.PhaseRewrite, pluginhost.PhaseAccess, pluginhost.PhaseBeforeProxy}

// simulate runs the vector's request through the instance the way the edge
// does: the request phases, then the simulated upstream, header_filter and
// body_filter with the whole body, then log. After an exit in a request
// phase, header_filter runs on the exit's response and nothing else before
// log.
func simulate(ctx context.Context, instance *pluginhost.Instance, vector *Vector, tenant *hostsvc.Tenant, timeout time.Duration) response {
	ex := newExchange(vector, tenant)
	got := simulateExchange(ctx, instance, vector, ex, timeout)
	got.consumer = ex.Request.Consumer
	return got
}

func simulateExchange(ctx context.Context, instance *pluginhost.Instance, vector *Vector, ex *pluginhost.Exchange, timeout time.Duration) response {
	defer runPhase(ctx, instance, pluginhost.PhaseLog, ex, timeout)

	for _, phase := range requestPhases {
		if err := runPhase(ctx, instance, phase, ex, timeout); err != nil {
			return failedResponse(err)
		}
		if ex.Exit != nil {
			return exitResponse(ctx, instance, ex, timeout)
		}
	}

	got := response{upstreamCalled: true, upstreamPath: ex.Request.Path, upstreamHeader: ex.Request.Header.Clone()}
	ex.Response.Status = vector.Upstream.Status
	if ex.Response.Status == 0 {
		ex.Response.Status = http.StatusOK
	}
	ex.Response.Header = headerOf(vector.Upstream.Headers)

	if err := runPhase(ctx, instance, pluginhost.PhaseHeaderFilter, ex, timeout); err != nil {
		failed := failedResponse(err)
		failed.upstreamCalled, failed.upstreamPath, failed.upstreamHeader = true, got.upstreamPath, got.upstreamHeader
		return failed
	}
	got.header = ex.Response.Header
	if ex.Exit != nil {
		got.status, got.body = ex.Exit.Status, ex.Exit.Body
		return got
	}

	got.status, got.body = ex.Response.Status, vector.Upstream.Body
	if instance.Plugin().Has(pluginhost.PhaseBodyFilter) && hasBody(ex.Request.Method, got.status, got.body) {
		ex.Response.Chunk, ex.Response.EOF = []byte(got.body), true
		if err := runPhase(ctx, instance, pluginhost.PhaseBodyFilter, ex, timeout); err != nil {
			got.err = err
			return got
		}
		got.body = string(ex.Response.Chunk)
	}
	return got
}

// exitResponse runs header_filter on the response of an exit that a
// request phase set, as the edge does: the hook reads the exit's status
// and the headers set so far, and an exit it sets replaces the first one.
func exitResponse(ctx context.Context, instance *pluginhost.Instance, ex *pluginhost.Exchange, timeout time.Duration) response {
	err := pluginhost.RunExitResponse(ex, instance.Plugin().Has(pluginhost.PhaseHeaderFilter), func() error {
		return runPhase(ctx, instance, pluginhost.PhaseHeaderFilter, ex, timeout)
	})
	if err != nil {
		return failedResponse(err)
	}
	return response{status: ex.Exit.Status, header: ex.Response.Header, body: ex.Exit.Body}
}

// hasBody reports whether the edge runs body_filter on a response to
// method with status and body: not for HEAD, 204 or 304, and not for an
// empty body, which an upstream sends with Content-Length 0.
func hasBody(method string, status int, body string) bool {
	return body != "" && pluginhost.ResponseHasBody(method, status)
}

func newExchange(vector *Vector, tenant *hostsvc.Tenant) *pluginhost.Exchange {
	body := []byte(vector.Request.Body)
	readBody := func(limit int) ([]byte, error) {
		return body[:min(limit, len(body))], nil
	}

	return &pluginhost.Exchange{
		Request: pluginhost.Request{
			Method:     vector.Request.method(),
			Host:       "vector.localhost",
			Path:       vector.Request.path(),
			RawQuery:   vector.Request.Query,
			Header:     headerOf(vector.Request.Headers),
			Scheme:     "http",
			ClientAddr: "127.0.0.1",
			Tenant:     "vector",
			Route:      "vector",
		},
		Response:  pluginhost.Response{Header: http.Header{}},
		RequestID: "vector",
		Vars:      map[string]any{},
		Host:      vectorHost(vector, tenant.Request(readBody)),
	}
}

// runPhase calls one hook under its own deadline, and checks an exit status
// as the edge does.
func runPhase(ctx context.Context, instance *pluginhost.Instance, phase pluginhost.Phase, ex *pluginhost.Exchange, timeout time.Duration) error {
	hookCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if err := instance.Run(hookCtx, phase, ex); err != nil {
		return err
	}
	if ex.Exit != nil && (ex.Exit.Status < 200 || ex.Exit.Status > 599) {
		return fmt.Errorf("%s hook: exit status %d is invalid: use 200 to 599", phase, ex.Exit.Status)
	}
	return nil
}

// failedResponse returns the response the edge sends when a binding fails closed.
func failedResponse(err error) response {
	return response{status: http.StatusInternalServerError, header: http.Header{}, err: err}
}

func headerOf(values map[string]string) http.Header {
	header := http.Header{}
	for name, value := range values {
		header.Set(name, value)
	}
	return header
}

// compare lists how got differs from the vector's expectation.
func compare(vector *Vector, got *response) []string {
	want := &vector.Expect
	var differences []string

	switch {
	case got.err != nil && want.Error == "":
		differences = append(differences, "hook failed: "+got.err.Error())
	case got.err == nil && want.Error != "":
		differences = append(differences, fmt.Sprintf("no hook failed, want an error containing %q", want.Error))
	case got.err != nil && !strings.Contains(got.err.Error(), want.Error):
		differences = append(differences, fmt.Sprintf("error = %q, want it to contain %q", got.err.Error(), want.Error))
	}

	if want.Status != 0 && got.status != want.Status {
		differences = append(differences, fmt.Sprintf("status = %d, want %d", got.status, want.Status))
	}
	if want.Body != nil && got.body != *want.Body {
		differences = append(differences, fmt.Sprintf("body = %q, want %q", got.body, *want.Body))
	}
	differences = append(differences, compareHeaders("response header", got.header, want.Headers)...)
	if want.Consumer != nil && got.consumer != *want.Consumer {
		differences = append(differences, fmt.Sprintf("consumer = %q, want %q", got.consumer, *want.Consumer))
	}

	if want.Upstream != nil {
		differences = append(differences, compareUpstream(got, want.Upstream)...)
	}
	return differences
}

func compareUpstream(got *response, want *UpstreamExpect) []string {
	var differences []string
	if want.Called != nil && got.upstreamCalled != *want.Called {
		differences = append(differences, fmt.Sprintf("upstream called = %t, want %t", got.upstreamCalled, *want.Called))
	}
	if !got.upstreamCalled {
		if want.Path != "" || !want.Headers.empty() {
			differences = append(differences, "upstream was not called, want a request to check")
		}
		return differences
	}

	if want.Path != "" && got.upstreamPath != want.Path {
		differences = append(differences, fmt.Sprintf("upstream path = %q, want %q", got.upstreamPath, want.Path))
	}
	return append(differences, compareHeaders("upstream header", got.upstreamHeader, want.Headers)...)
}

func compareHeaders(kind string, got http.Header, want HeaderExpect) []string {
	var differences []string
	for _, name := range sortedNames(want.Equal) {
		values := got.Values(name)
		switch {
		case len(values) == 0:
			differences = append(differences, fmt.Sprintf("%s %s is absent, want %q", kind, name, want.Equal[name]))
		case values[0] != want.Equal[name]:
			differences = append(differences, fmt.Sprintf("%s %s = %q, want %q", kind, name, values[0], want.Equal[name]))
		}
	}
	for _, name := range want.Present {
		if len(got.Values(name)) == 0 {
			differences = append(differences, fmt.Sprintf("%s %s is absent, want it present", kind, name))
		}
	}
	for _, name := range want.Absent {
		if values := got.Values(name); len(values) > 0 {
			differences = append(differences, fmt.Sprintf("%s %s = %q, want it absent", kind, name, values[0]))
		}
	}
	return differences
}

func (h HeaderExpect) empty() bool {
	return len(h.Equal) == 0 && len(h.Present) == 0 && len(h.Absent) == 0
}

func sortedNames(values map[string]string) []string {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
