package hostsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// fetchClient sends plugins' outbound requests. It follows no redirect, so
// a redirect cannot lead a plugin past its allowed hosts.
var fetchClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Fetch sends req when its host is in caller.AllowHosts.
func (h *requestHost) Fetch(ctx context.Context, caller pluginhost.Caller, req pluginhost.OutboundRequest) (pluginhost.OutboundResponse, error) {
	target, err := url.Parse(req.URL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return pluginhost.OutboundResponse{}, fmt.Errorf("url %q is invalid: use an absolute http:// or https:// URL", req.URL)
	}
	if !allowed(target, caller.AllowHosts) {
		return pluginhost.OutboundResponse{}, fmt.Errorf("host %q is not in the binding's allow_hosts", target.Host)
	}

	ctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, req.Method, target.String(), bytes.NewReader(req.Body))
	if err != nil {
		return pluginhost.OutboundResponse{}, fmt.Errorf("build request to %q: %w", target.Host, err)
	}
	out.Header = req.Header.Clone()

	resp, err := fetchClient.Do(out)
	if err != nil {
		return pluginhost.OutboundResponse{}, fmt.Errorf("request to %q: %w", target.Host, errors.Unwrap(err))
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
		if entry == hostname || entry == net.JoinHostPort(hostname, port) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
