package cache

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Limits of the rejections that a Store keeps.
const (
	// MaxRejections caps the tenants with a recorded rejection. Past it
	// the oldest entry is dropped.
	MaxRejections = 1000
	// MaxReasonLength caps a rejection reason in characters.
	MaxReasonLength = 300
)

// Rejection is the newest revision of a tenant whose bundle failed to build
// during a refresh, while the tenant kept serving an older revision.
type Rejection struct {
	Revision int64
	// Reason is one line of at most MaxReasonLength characters.
	Reason string
}

// rejections holds the Rejection of each tenant, in insertion order so that
// the oldest is dropped first.
type rejections struct {
	mu      sync.Mutex
	entries map[string]rejectionEntry
	// added counts insertions. Each entry keeps the count at its insertion.
	added uint64
}

type rejectionEntry struct {
	Rejection
	order uint64
}

// Rejected returns the rejection of each tenant whose newest refreshed
// bundle failed to build. An entry is removed when a newer revision of the
// tenant builds or loads, and when the tenant leaves the cache.
func (s *Store) Rejected() map[string]Rejection {
	s.rejected.mu.Lock()
	defer s.rejected.mu.Unlock()

	result := make(map[string]Rejection, len(s.rejected.entries))
	for tenant, entry := range s.rejected.entries {
		result[tenant] = entry.Rejection
	}
	return result
}

// Reject records that revision of tenant was kept out of service with err
// while an older revision serves, for a Build that falls back on its own.
func (s *Store) Reject(tenant string, revision int64, err error) {
	s.reject(tenant, revision, err)
}

// reject records that revision of tenant failed to build with err, unless
// a newer revision of it was already rejected.
func (s *Store) reject(tenant string, revision int64, err error) {
	reason := err.Error()
	if s.opts.Reason != nil {
		reason = s.opts.Reason(err)
	}
	reason = oneLine(reason, MaxReasonLength)

	r := &s.rejected
	r.mu.Lock()
	defer r.mu.Unlock()

	if previous, found := r.entries[tenant]; found && previous.Revision > revision {
		return
	}
	if r.entries == nil {
		r.entries = map[string]rejectionEntry{}
	}
	r.added++
	r.entries[tenant] = rejectionEntry{Rejection: Rejection{Revision: revision, Reason: reason}, order: r.added}
	if len(r.entries) > MaxRejections {
		r.dropOldest()
	}
}

// dropOldest removes the entry inserted first. The caller holds r.mu.
func (r *rejections) dropOldest() {
	oldest, first := "", true
	for tenant, entry := range r.entries {
		if first || entry.order < r.entries[oldest].order {
			oldest, first = tenant, false
		}
	}
	delete(r.entries, oldest)
}

// accept removes the rejection of tenant if it is for revision or older,
// because the tenant now serves revision.
func (s *Store) accept(tenant string, revision int64) {
	s.rejected.mu.Lock()
	defer s.rejected.mu.Unlock()

	if entry, found := s.rejected.entries[tenant]; found && entry.Revision <= revision {
		delete(s.rejected.entries, tenant)
	}
}

// forgetRejection removes the rejection of a tenant that left the cache.
func (s *Store) forgetRejection(tenant string) {
	s.rejected.mu.Lock()
	defer s.rejected.mu.Unlock()
	delete(s.rejected.entries, tenant)
}

// oneLine turns each run of spaces, line breaks and control characters in
// text into one space and cuts the result to at most limit characters,
// ending a cut text with "…".
func oneLine(text string, limit int) string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text, "?"))
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= limit {
		return text
	}

	runes := []rune(text)
	return string(runes[:limit-1]) + "…"
}
