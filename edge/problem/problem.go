// Package problem writes error responses as problem details documents
// (RFC 9457, media type application/problem+json).
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType is the media type of a problem details document, from RFC 9457
// section 3.
const ContentType = "application/problem+json"

// StatusClientClosedRequest is the non-standard status that the edge logs
// and counts when the client went away before the response was written. It
// is never sent, because no client is left to read it.
const StatusClientClosedRequest = 499

// Details is one problem details document. Type is always "about:blank", so
// by RFC 9457 section 4.2.1 Title is the status phrase and Detail carries
// what is specific to this occurrence.
type Details struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// New returns a document for status with the given detail text.
func New(status int, detail, requestID string) Details {
	return Details{
		Type:      "about:blank",
		Title:     Title(status),
		Status:    status,
		Detail:    detail,
		RequestID: requestID,
	}
}

// Title returns the status phrase for status, including one for the 499 that
// net/http does not know.
func Title(status int) string {
	if status == StatusClientClosedRequest {
		return "Client Closed Request"
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return "Status " + strconv.Itoa(status)
}

// Write sends the document as the response. It replaces any Content-Length
// and Content-Encoding already set on w, and forbids caching of the error.
func Write(w http.ResponseWriter, details Details) {
	body, err := json.Marshal(details)
	if err != nil {
		// Marshal fails only on unsupported types, and Details contains
		// only strings and an int.
		panic(err)
	}
	body = append(body, '\n')

	header := w.Header()
	header.Del("Content-Encoding")
	header.Set("Content-Type", ContentType)
	header.Set("Content-Length", strconv.Itoa(len(body)))
	header.Set("Cache-Control", "no-store")
	header.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(details.Status)
	_, _ = w.Write(body)
}
