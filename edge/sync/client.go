// Package sync keeps an edge in step with the portal: it follows the
// portal's change feed, fetches bundles through the Redis L2, the portal
// and the last-known-good copies on disk, and reports the edge's position
// and health.
package sync

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"portcullis.dev/tenants/bundle"
)

// requestTimeout bounds one bundle fetch or heartbeat.
const requestTimeout = 5 * time.Second

// maxBundleBytes caps the bundle response that the client reads.
const maxBundleBytes = 32 << 20

// Event is one entry of the portal's change feed.
type Event struct {
	Position int64  `json:"position"`
	Tenant   string `json:"tenant"`
	Revision int64  `json:"revision"`
	Kind     string `json:"kind"`
	// Resource names what changed, such as "route/all" or
	// "domain/api.example.com".
	Resource string    `json:"resource"`
	Time     time.Time `json:"time"`
}

// Report is the body the edge sends with each heartbeat.
type Report struct {
	NodeID    string           `json:"node_id"`
	Region    string           `json:"region"`
	Position  int64            `json:"position"`
	Revisions map[string]int64 `json:"revisions"`
	Healthy   bool             `json:"healthy"`
	Detail    string           `json:"detail"`
	// PluginErrors counts failed hook calls per plugin version, keyed by
	// name@version, since the edge started.
	PluginErrors map[string]int64 `json:"plugin_errors,omitempty"`
	// Rejected maps each tenant whose newest bundle failed to compile or
	// pre-flight on this edge to that revision and the reason.
	Rejected map[string]Rejection `json:"rejected,omitempty"`
	// Instance is a random id that the edge process picks at start, so the
	// portal can tell two processes that report one node id apart.
	Instance string `json:"instance,omitempty"`
}

// HeartbeatAnswer is the portal's response to a heartbeat.
type HeartbeatAnswer struct {
	// Head is the newest position of the change feed.
	Head int64 `json:"head"`
	// NodeIDConflict is true while another edge process reports the same
	// node id.
	NodeIDConflict bool `json:"node_id_conflict"`
}

// Rejection is a tenant revision that the edge rejected, while it
// kept serving an older one.
type Rejection struct {
	Revision int64 `json:"revision"`
	// Reason is one line of at most 300 characters without config values.
	Reason string `json:"reason"`
}

// ErrUnavailable wraps failures that mean the portal cannot respond now:
// network errors, timeouts and 5xx responses.
var ErrUnavailable = errors.New("portal unavailable")

// ErrUnauthorized wraps a 401 or 403 response: the portal rejected the
// edge token.
var ErrUnauthorized = errors.New("portal rejected the edge token")

// Client calls the portal's edge sync API with an edge token.
type Client struct {
	base  string
	token string
	http  *http.Client
	// stream has no overall timeout, because a change stream stays open.
	stream *http.Client
}

// NewClient returns a client of the portal at baseURL, such as
// "http://127.0.0.1:9080".
func NewClient(baseURL, token string) (*Client, error) {
	parsed, err := url.Parse(baseURL)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("portal URL %q is not an http or https URL with a host", baseURL)
	}
	if token == "" {
		return nil, errors.New("edge token is missing: create one with POST /api/v1/edge-tokens on the portal")
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16
	return &Client{
		base:   strings.TrimRight(baseURL, "/") + "/api/v1/edge",
		token:  token,
		http:   &http.Client{Transport: transport, Timeout: requestTimeout},
		stream: &http.Client{Transport: transport},
	}, nil
}

// Bundle fetches the tenant's current bundle, which must be at least at
// minRevision, and verifies its hash. An unknown tenant returns an error
// wrapping bundle.ErrTenantNotFound.
func (c *Client) Bundle(ctx context.Context, tenant string, minRevision int64) (*bundle.Bundle, error) {
	path := "/tenants/" + url.PathEscape(tenant) + "/bundle?min_revision=" + strconv.FormatInt(minRevision, 10)
	response, err := c.do(ctx, c.http, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()

	if response.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("portal: tenant %q: %w", tenant, bundle.ErrTenantNotFound)
	}
	if err := checkStatus(response); err != nil {
		return nil, fmt.Errorf("fetch bundle of tenant %q: %w", tenant, err)
	}

	var b bundle.Bundle
	if err := json.NewDecoder(io.LimitReader(response.Body, maxBundleBytes)).Decode(&b); err != nil {
		return nil, fmt.Errorf("decode bundle of tenant %q: %w: %w", tenant, ErrUnavailable, err)
	}
	if err := b.Verify(); err != nil {
		return nil, fmt.Errorf("bundle of tenant %q from the portal: %w", tenant, err)
	}
	return &b, nil
}

// maxDomainIndexBytes caps the domain index response that the client reads.
const maxDomainIndexBytes = 32 << 20

// Domains fetches the portal's index of verified custom domains: each
// hostname with the slug of its tenant.
func (c *Client) Domains(ctx context.Context) (map[string]string, error) {
	response, err := c.do(ctx, c.http, http.MethodGet, "/domains", nil)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if err := checkStatus(response); err != nil {
		return nil, fmt.Errorf("fetch domain index: %w", err)
	}

	var index struct {
		Domains map[string]string `json:"domains"`
	}
	if err := json.NewDecoder(io.LimitReader(response.Body, maxDomainIndexBytes)).Decode(&index); err != nil {
		return nil, fmt.Errorf("decode domain index: %w: %w", ErrUnavailable, err)
	}
	if index.Domains == nil {
		index.Domains = map[string]string{}
	}
	return index.Domains, nil
}

// Heartbeat sends the report and returns the portal's response.
func (c *Client) Heartbeat(ctx context.Context, report Report) (HeartbeatAnswer, error) {
	body, err := json.Marshal(report)
	if err != nil {
		return HeartbeatAnswer{}, err
	}

	response, err := c.do(ctx, c.http, http.MethodPost, "/heartbeat", body)
	if err != nil {
		return HeartbeatAnswer{}, err
	}
	defer response.Body.Close()
	if err := checkStatus(response); err != nil {
		return HeartbeatAnswer{}, fmt.Errorf("send heartbeat: %w", err)
	}

	var answer HeartbeatAnswer
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil {
		return HeartbeatAnswer{}, fmt.Errorf("decode heartbeat response: %w", err)
	}
	return answer, nil
}

// Poll long-polls for events after the position, waiting up to wait.
func (c *Client) Poll(ctx context.Context, after int64, wait time.Duration) ([]Event, error) {
	ctx, cancel := context.WithTimeout(ctx, wait+requestTimeout)
	defer cancel()

	path := fmt.Sprintf("/changes?after=%d&wait=%s", after, wait)
	response, err := c.do(ctx, c.stream, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if err := checkStatus(response); err != nil {
		return nil, fmt.Errorf("poll changes: %w", err)
	}

	var page struct {
		Events []Event `json:"events"`
	}
	if err := json.NewDecoder(response.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("decode changes: %w: %w", ErrUnavailable, err)
	}
	return page.Events, nil
}

// Stream opens the Server-Sent Events stream of changes after the position
// and calls opened once the portal responded, then apply for each event in
// order, until the portal ends the stream, ctx ends or apply fails.
func (c *Client) Stream(ctx context.Context, after int64, opened func(), apply func(Event) error) error {
	response, err := c.do(ctx, c.stream, http.MethodGet, fmt.Sprintf("/changes/stream?after=%d", after), nil)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if err := checkStatus(response); err != nil {
		return fmt.Errorf("open change stream: %w", err)
	}
	opened()

	return readEvents(response.Body, apply)
}

// readEvents parses "data:" lines of an SSE stream. Comments and the id and
// event fields are skipped, because each data line carries its position.
func readEvents(body io.Reader, apply func(Event) error) error {
	scanner := bufio.NewScanner(body)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)

	for scanner.Scan() {
		data, found := strings.CutPrefix(scanner.Text(), "data: ")
		if !found {
			continue
		}

		var event Event
		if err := json.Unmarshal([]byte(data), &event); err != nil {
			return fmt.Errorf("decode change event: %w", err)
		}
		if err := apply(event); err != nil {
			return err
		}
	}

	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read change stream: %w: %w", ErrUnavailable, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, client *http.Client, method, path string, body []byte) (*http.Response, error) {
	request, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	request.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}

	response, err := client.Do(request)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return response, nil
}

// checkStatus turns a non-2xx response into an error with the start of its
// body. 5xx and 429 wrap ErrUnavailable, 401 and 403 ErrUnauthorized.
func checkStatus(response *http.Response) error {
	if response.StatusCode >= 200 && response.StatusCode < 300 {
		return nil
	}

	detail, _ := io.ReadAll(io.LimitReader(response.Body, 512))
	err := fmt.Errorf("portal returned %s: %s", response.Status, bytes.TrimSpace(detail))
	if response.StatusCode >= 500 || response.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if response.StatusCode == http.StatusUnauthorized || response.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return err
}
