package proxy

import (
	"net"
	"net/http"
	"slices"
	"testing"
)

// pipeRecording returns a recordingConn whose reads return what the test
// writes to the other end.
func pipeRecording(t *testing.T) (*recordingConn, net.Conn) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() {
		_ = client.Close()
		_ = server.Close()
	})
	return &recordingConn{Conn: client}, server
}

func TestRecordingConnFields(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   []string
	}{
		{
			name:   "one read",
			chunks: []string{"HTTP/1.1 200 OK\r\nConnection: close, X-Name\r\nX-Name: a\r\n\r\nbody"},
			want:   []string{"close, X-Name"},
		},
		{
			name:   "split across reads",
			chunks: []string{"HTTP/1.1 200 OK\r\nConnec", "tion: close,", " X-Name\r\n", "\r\nbody"},
			want:   []string{"close, X-Name"},
		},
		{
			name:   "two field lines",
			chunks: []string{"HTTP/1.1 200 OK\r\nconnection: close\r\nConnection: X-Name\r\n\r\n"},
			want:   []string{"close", "X-Name"},
		},
		{
			name:   "after 100 Continue",
			chunks: []string{"HTTP/1.1 100 Continue\r\nConnection: X-Early\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close, X-Name\r\n\r\n"},
			want:   []string{"close, X-Name"},
		},
		{
			name:   "body line is not read",
			chunks: []string{"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n", "\r\nConnection: close, X-Body\r\n\r\n"},
			want:   nil,
		},
		{
			name:   "not HTTP/1.1",
			chunks: []string{"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\nConnection: close\r\n\r\n"},
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, peer := pipeRecording(t)
			conn.reset()
			go func() {
				for _, chunk := range tt.chunks {
					if _, err := peer.Write([]byte(chunk)); err != nil {
						return
					}
				}
			}()

			buf := make([]byte, 4096)
			total := 0
			for _, chunk := range tt.chunks {
				total += len(chunk)
			}
			for read := 0; read < total; {
				n, err := conn.Read(buf)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				read += n
			}
			if got := conn.connectionFields(); !slices.Equal(got, tt.want) {
				t.Errorf("connection fields = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRemoveClosedConnectionHeaders(t *testing.T) {
	conn, _ := pipeRecording(t)
	conn.fields = []string{"close, X-Name", "x-other"}
	resp := &http.Response{Close: true, Header: http.Header{"X-Name": {"a"}, "X-Other": {"b"}, "X-Kept": {"c"}}}

	removeClosedConnectionHeaders(resp, &Call{upstreamConn: conn})
	for _, name := range []string{"X-Name", "X-Other"} {
		if value := resp.Header.Get(name); value != "" {
			t.Errorf("%s = %q, want it removed", name, value)
		}
	}
	if value := resp.Header.Get("X-Kept"); value != "c" {
		t.Errorf("X-Kept = %q, want %q", value, "c")
	}
}
