package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// waitRejected polls until Rejected has an entry for tenant at revision, or
// none when revision is 0, for at most one second.
func waitRejected(t *testing.T, store *Store, tenant string, revision int64) Rejection {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		rejection, found := store.Rejected()[tenant]
		if (revision == 0 && !found) || (found && rejection.Revision == revision) {
			return rejection
		}
		if time.Now().After(deadline) {
			t.Fatalf("rejection of %q = %+v (found %t) after 1s, want revision %d", tenant, rejection, found, revision)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRejectedRecordsAndClears(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newStore(t, source, 2)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}
	if rejected := store.Rejected(); len(rejected) != 0 {
		t.Fatalf("Rejected before a failed build = %v, want empty", rejected)
	}

	source.put("acme", 2)
	store.Invalidate("acme", 2)
	rejection := waitRejected(t, store, "acme", 2)
	if !strings.HasSuffix(rejection.Reason, "revision 2 is broken") {
		t.Errorf("reason = %q, want it to end with the build error %q", rejection.Reason, "revision 2 is broken")
	}
	waitRevision(t, store, "acme", 1)

	source.put("acme", 3)
	store.Invalidate("acme", 3)
	waitRevision(t, store, "acme", 3)
	waitRejected(t, store, "acme", 0)
}

func TestRejectedClearedOnRemoval(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store := newStore(t, source, 2)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}
	source.put("acme", 2)
	store.Invalidate("acme", 2)
	waitRejected(t, store, "acme", 2)

	source.drop("acme")
	store.Invalidate("acme", 3)
	waitRejected(t, store, "acme", 0)
}

func TestRejectedReasonOption(t *testing.T) {
	source := newFakeSource()
	source.put("acme", 1)
	store, err := New(Options{
		Source: source,
		Build:  buildRevisions(2),
		Reason: func(err error) string { return "line one\nline two\t" + strings.Repeat("x", 400) },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(store.Close)
	if _, err := store.Runtime(context.Background(), "acme"); err != nil {
		t.Fatalf("Runtime: %v", err)
	}

	source.put("acme", 2)
	store.Invalidate("acme", 2)
	reason := waitRejected(t, store, "acme", 2).Reason
	if strings.ContainsAny(reason, "\n\t") {
		t.Errorf("reason %q contains a line break or tab, want one line", reason)
	}
	if !strings.HasPrefix(reason, "line one line two xxx") {
		t.Errorf("reason %q does not start with the Reason output joined into one line", reason)
	}
	if length := utf8.RuneCountInString(reason); length != MaxReasonLength {
		t.Errorf("reason has %d characters, want it cut to %d", length, MaxReasonLength)
	}
}

func TestRejectedKeepsNewestAndCaps(t *testing.T) {
	store := newStore(t, newFakeSource())
	store.reject("acme", 5, errors.New("five"))
	store.reject("acme", 4, errors.New("four"))
	if got := store.Rejected()["acme"]; got.Revision != 5 || got.Reason != "five" {
		t.Errorf("after an older rejection: %+v, want revision 5 kept", got)
	}

	for i := range MaxRejections {
		store.reject(fmt.Sprintf("t%d", i), 1, errors.New("broken"))
	}
	rejected := store.Rejected()
	if len(rejected) != MaxRejections {
		t.Errorf("entries = %d, want the cap %d", len(rejected), MaxRejections)
	}
	if _, found := rejected["acme"]; found {
		t.Error("the oldest entry acme is still kept past the cap, want it dropped")
	}
	if _, found := rejected["t0"]; !found {
		t.Error("entry t0 is missing, want only the oldest entry dropped")
	}
}

func TestOneLineCutsCharacters(t *testing.T) {
	text := strings.Repeat("é", 10)
	if got := oneLine(text, 5); got != "éééé…" {
		t.Errorf("oneLine = %q, want %q", got, "éééé…")
	}
	if got := oneLine("a\x00b\r\n c", 10); got != "a b c" {
		t.Errorf("oneLine = %q, want %q", got, "a b c")
	}
}
