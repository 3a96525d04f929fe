package hostsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// MaxOutboundRequests is the maximum number of ctx.http calls of one
// request, in all phases and plugins together. A call past it fails, so a
// script that loops over ctx.http cannot turn one request into thousands.
const MaxOutboundRequests = 16

// Fetch sends req when its host is in caller.AllowHosts, its resolved
// address is one that plugins may reach, and the request has made fewer
// than MaxOutboundRequests calls.
func (h *requestHost) Fetch(ctx context.Context, caller pluginhost.Caller, req pluginhost.OutboundRequest) (pluginhost.OutboundResponse, error) {
	if count := h.fetches.Add(1); count > MaxOutboundRequests {
		return pluginhost.OutboundResponse{}, fmt.Errorf("outbound request %d exceeds the limit of %d per request, counted over all phases and plugins: make fewer ctx.http calls, for example by caching results with ctx.kv", count, MaxOutboundRequests)
	}
	target, err := url.Parse(req.URL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return pluginhost.OutboundResponse{}, fmt.Errorf("url %q is invalid: use an absolute http:// or https:// URL", req.URL)
	}
	if !allowed(target, caller.AllowHosts) {
		return pluginhost.OutboundResponse{}, fmt.Errorf("host %q is not in the binding's allow_hosts: add it to allow_hosts of the binding", target.Host)
	}

	ctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, req.Method, target.String(), bytes.NewReader(req.Body))
	if err != nil {
		return pluginhost.OutboundResponse{}, fmt.Errorf("build request to %q: %w", target.Host, err)
	}
	out.Header = req.Header.Clone()

	resp, err := h.tenant.services.outbound.Do(out)
	if err != nil {
		return pluginhost.OutboundResponse{}, sendError(target.Host, err)
	}
	defer resp.Body.Close()

	body, truncated, err := pluginhost.ReadLimited(resp.Body, pluginhost.MaxFetchBody)
	if err != nil {
		return pluginhost.OutboundResponse{}, fmt.Errorf("read response of %q: %w", target.Host, err)
	}
	if truncated {
		return pluginhost.OutboundResponse{}, fmt.Errorf("response of %q is above the limit of %d bytes", target.Host, pluginhost.MaxFetchBody)
	}
	return pluginhost.OutboundResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// sendError words the error of an outbound request to host that failed
// before a response arrived.
func sendError(host string, err error) error {
	var blocked *BlockedAddressError
	if errors.As(err, &blocked) {
		return fmt.Errorf("request to %q rejected: %w", host, blocked)
	}
	if headersTooLarge(err) {
		return fmt.Errorf("response headers of %q are above the limit of %d bytes", host, MaxResponseHeaderBytes)
	}
	return fmt.Errorf("request to %q: %w", host, errors.Unwrap(err))
}

// headersTooLarge reports whether err is net/http's error for response
// headers above Transport.MaxResponseHeaderBytes. net/http exports no
// value for it, so this matches the texts of Go 1.26's HTTP/1 and HTTP/2
// transports.
func headersTooLarge(err error) bool {
	text := err.Error()
	return strings.Contains(text, "server response headers exceeded") ||
		strings.Contains(text, "response header list larger than advertised limit")
}

// allowed matches the URL's host against entries "host" (any port) and
// "host:port", case-insensitively.
func allowed(target *url.URL, hosts []string) bool {
	hostname := strings.ToLower(target.Hostname())
	port := target.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[target.Scheme]
	}

	for _, entry := range hosts {
		entry = strings.ToLower(entry)
		// An IPv6 entry without a port may come in brackets.
		if strings.HasPrefix(entry, "[") && strings.HasSuffix(entry, "]") {
			entry = entry[1 : len(entry)-1]
		}
		if entry == hostname || entry == net.JoinHostPort(hostname, port) {
			return true
		}
	}
	return false
}
