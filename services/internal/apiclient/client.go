// Package apiclient calls the portal's REST API. The demo set-up and the
// end-to-end tests use it, so both exercise the public contract.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponseBody caps how much of a response the client reads.
const maxResponseBody = 4 << 20

// Client sends authenticated requests to one portal.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// Problem is an RFC 9457 problem document returned by the portal.
type Problem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
	ContentType string `json:"-"`
}

func (p *Problem) Error() string {
	return fmt.Sprintf("portal returned %d %s: %s", p.Status, p.Title, p.Detail)
}

// Do sends a request with body encoded as JSON (nil sends none) and decodes
// a 2xx response into out (nil discards it). A 4xx or 5xx response becomes
// a *Problem.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	_, err := c.send(ctx, method, c.url(path), body, out)
	return err
}

// url returns the absolute URL of an API path.
func (c *Client) url(path string) string {
	return strings.TrimSuffix(c.BaseURL, "/") + path
}

// send sends a request to the absolute URL target as Do describes, and
// returns the response's header.
func (c *Client) send(ctx context.Context, method, target string, body, out any) (http.Header, error) {
	request, err := c.newRequest(ctx, method, target, body)
	if err != nil {
		return nil, err
	}

	response, err := c.httpClient().Do(request)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer response.Body.Close()

	data, err := io.ReadAll(io.LimitReader(response.Body, maxResponseBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, target, err)
	}
	if response.StatusCode >= 400 {
		return nil, decodeProblem(response, data)
	}
	if out == nil || len(data) == 0 {
		return response.Header, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("%s %s: decode response: %w", method, target, err)
	}
	return response.Header, nil
}

func (c *Client) newRequest(ctx context.Context, method, target string, body any) (*http.Request, error) {
	var reader io.Reader
	if body != nil {
		encoded, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s body: %w", method, target, err)
		}
		reader = bytes.NewReader(encoded)
	}

	request, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, target, err)
	}
	request.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	return request, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func decodeProblem(response *http.Response, data []byte) error {
	problem := &Problem{Status: response.StatusCode, ContentType: response.Header.Get("Content-Type")}
	if err := json.Unmarshal(data, problem); err != nil {
		problem.Detail = strings.TrimSpace(string(data))
	}
	problem.Status = response.StatusCode
	return problem
}

// StatusOf returns the HTTP status of a *Problem error, or 0 for any other.
func StatusOf(err error) int {
	if problem, ok := err.(*Problem); ok {
		return problem.Status
	}
	return 0
}
