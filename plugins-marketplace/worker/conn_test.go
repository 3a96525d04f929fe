package worker

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// pipe returns two Conns on the ends of one in-memory connection.
func pipe(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() {
		_ = a.Close()
		_ = b.Close()
	})
	return NewConn(a), NewConn(b)
}

func TestConnRoundTripKeepsValueTypes(t *testing.T) {
	left, right := pipe(t)
	vars := map[string]any{"n": int64(3), "f": 1.5, "s": "x", "b": true, "nil": nil, "list": []any{int64(1), "two"}, "map": map[string]any{"k": "v"}}
	sent := &Frame{Kind: KindCall, ID: 7, Call: &Call{
		Set:   2,
		Phase: pluginhost.PhaseAccess,
		Steps: []Step{{Index: 1, Timeout: 50, FailOpen: true}},
		Exchange: Exchange{
			Request:  pluginhost.Request{Method: "GET", Path: "/x", Header: http.Header{"X-A": {"1", "2"}}},
			Response: pluginhost.Response{Chunk: []byte("body"), EOF: true},
			Vars:     vars,
			Exit:     &pluginhost.Exit{Status: 401, Body: "no"},
		},
	}}

	for range 2 {
		go func() { _ = left.Send(sent) }()
		got, err := right.Receive()
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if got.Kind != KindCall || got.ID != 7 || got.Call.Set != 2 || got.Call.Steps[0] != sent.Call.Steps[0] {
			t.Errorf("frame = %+v, want %+v", got, sent)
		}
		ex := got.Call.Exchange
		if ex.Request.Header.Get("X-A") != "1" || len(ex.Request.Header["X-A"]) != 2 || string(ex.Response.Chunk) != "body" || ex.Exit.Status != 401 {
			t.Errorf("exchange = %+v, want the sent one", ex)
		}
		for key, want := range vars {
			if key == "list" || key == "map" {
				continue
			}
			if got := ex.Vars[key]; got != want {
				t.Errorf("vars[%q] = %#v, want %#v", key, got, want)
			}
		}
		if list, ok := ex.Vars["list"].([]any); !ok || list[0] != int64(1) || list[1] != "two" {
			t.Errorf("vars[list] = %#v, want [1 two] with an int64", ex.Vars["list"])
		}
	}
}

func TestConnRejectsOversizedFrame(t *testing.T) {
	var stream bytes.Buffer
	var header [4]byte
	binary.BigEndian.PutUint32(header[:], MaxFrame+1)
	stream.Write(header[:])
	stream.WriteString(strings.Repeat("x", 16))

	conn := NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{&stream, io.Discard, io.NopCloser(nil)})
	_, err := conn.Receive()
	if err == nil || !strings.Contains(err.Error(), "above the limit") {
		t.Errorf("Receive error = %v, want the frame size limit", err)
	}
}

func TestApplyKeepsEmptyHeaders(t *testing.T) {
	ex := &pluginhost.Exchange{Request: pluginhost.Request{Header: http.Header{}}, Response: pluginhost.Response{Header: http.Header{}}}
	wire := Exchange{Request: pluginhost.Request{Path: "/y"}}
	wire.Apply(ex)
	if ex.Request.Header == nil || ex.Response.Header == nil || ex.Request.Path != "/y" {
		t.Errorf("exchange after Apply = %+v, want empty headers and path /y", ex)
	}
}
