package sync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewClientRejects(t *testing.T) {
	tests := []struct {
		name, url, token string
	}{
		{"no scheme", "127.0.0.1:9080", testToken},
		{"other scheme", "ftp://127.0.0.1", testToken},
		{"no host", "http://", testToken},
		{"empty token", "http://127.0.0.1:9080", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewClient(tt.url, tt.token); err == nil {
				t.Errorf("NewClient(%q) error = nil, want an error", tt.url)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	portal := startFakePortal(t)
	ctx := context.Background()

	wrong, err := NewClient(portal.server.URL, "pce_wrong")
	if err != nil {
		t.Fatalf("NewClient() error = %v", err)
	}
	_, err = wrong.Heartbeat(ctx, Report{NodeID: "n", Region: "r"})
	if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "401") {
		t.Errorf("Heartbeat() with a wrong token error = %v, want a 401 that is not ErrUnavailable", err)
	}

	portal.set(func(p *fakePortal) { p.down = true })
	_, err = portal.client(t).Heartbeat(ctx, Report{NodeID: "n", Region: "r"})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Heartbeat() against a 503 error = %v, want ErrUnavailable", err)
	}
}

func TestClientPollAndHeartbeat(t *testing.T) {
	portal := startFakePortal(t)
	portal.addEvent(4, "acme", 1)
	portal.addEvent(7, "acme", 2)
	client := portal.client(t)
	ctx := context.Background()

	events, err := client.Poll(ctx, 4, time.Second)
	if err != nil {
		t.Fatalf("Poll() error = %v", err)
	}
	if len(events) != 1 || events[0].Position != 7 {
		t.Errorf("Poll(after 4) = %+v, want the event at 7", events)
	}

	answer, err := client.Heartbeat(ctx, Report{NodeID: "n", Region: "r", Position: 7})
	if err != nil || answer != (HeartbeatAnswer{Head: 7}) {
		t.Errorf("Heartbeat() = %+v, %v; want head 7 and no conflict, nil", answer, err)
	}
}

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		want    []int64
		wantErr bool
	}{
		{"events and comments", ": open\n\nid: 3\nevent: change\ndata: {\"position\":3,\"tenant\":\"a\",\"revision\":1}\n\n: keep-alive\n\nid: 5\ndata: {\"position\":5,\"tenant\":\"a\",\"revision\":2}\n\n", []int64{3, 5}, false},
		{"empty stream", "", nil, false},
		{"bad data", "data: {not json}\n\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			err := readEvents(strings.NewReader(tt.stream), func(event Event) error {
				got = append(got, event.Position)
				return nil
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("readEvents() error = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("positions = %v, want %v", got, tt.want)
			}
		})
	}
}
