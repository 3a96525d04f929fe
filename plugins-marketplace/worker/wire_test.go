package worker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// encodeFrame returns the body of f as Send writes it, without the length.
func encodeFrame(t testing.TB, f *Frame) []byte {
	t.Helper()
	var e encoder
	if err := e.frame(f); err != nil {
		t.Fatalf("encode frame: %v", err)
	}
	return e.buf
}

func TestBinaryCallRoundTrip(t *testing.T) {
	sent := benchCall()
	sent.Call.Exchange.Request.Params = map[string]string{"id": "7"}
	sent.Call.Exchange.Response.Chunk = []byte("chunk")
	sent.Call.Exchange.Vars["nested"] = map[string]any{"list": []any{1.5, nil, true, false}}
	sent.Call.Exchange.Exit = &pluginhost.Exit{Status: 429, Body: "slow down"}
	sent.Call.Steps[2].FailOpen = true
	sent.Call.Steps[3].Quarantined = true

	got, err := decodeBinary(encodeFrame(t, sent))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	got.Call.sent = nil
	if !reflect.DeepEqual(got, sent) {
		t.Errorf("decoded frame\n%+v\nwant\n%+v", got.Call, sent.Call)
	}
}

func TestBinaryResultLeavesOutUnchangedSections(t *testing.T) {
	call, err := decodeBinary(encodeFrame(t, benchCall()))
	if err != nil {
		t.Fatalf("decode call: %v", err)
	}

	ex := &pluginhost.Exchange{}
	call.Call.Exchange.Apply(ex)
	ex.Response.Header.Set("X-Added", "1")
	result := &Result{Exchange: ToWire(ex), Steps: []Outcome{{Ran: true}}, base: call.Call.sent}
	body := encodeFrame(t, &Frame{Kind: KindResult, ID: 42, Result: result})
	full := encodeFrame(t, &Frame{Kind: KindResult, ID: 42, Result: &Result{Exchange: ToWire(ex), Steps: []Outcome{{Ran: true}}}})
	if len(body) >= len(full) {
		t.Errorf("result with a base is %d bytes, want fewer than the %d of a full one", len(body), len(full))
	}

	got, err := decodeBinary(body)
	if err != nil {
		t.Fatalf("decode result: %v", err)
	}
	if got.Result.Exchange.unchanged != unchangedRequest|unchangedVars {
		t.Errorf("unchanged = %b, want request and vars", got.Result.Exchange.unchanged)
	}

	edge := &pluginhost.Exchange{Request: pluginhost.Request{Path: "/kept"}, Vars: map[string]any{"kept": true}}
	got.Result.Exchange.Apply(edge)
	if edge.Request.Path != "/kept" || edge.Vars["kept"] != true {
		t.Errorf("Apply replaced an unchanged section: request %+v, vars %v", edge.Request, edge.Vars)
	}
	if edge.Response.Header.Get("X-Added") != "1" {
		t.Errorf("response header X-Added = %q, want %q", edge.Response.Header.Get("X-Added"), "1")
	}
}

func TestBinaryRejectsMalformedFrames(t *testing.T) {
	valid := encodeFrame(t, benchCall())
	tests := []struct {
		name string
		body []byte
	}{
		{"too short", []byte{byte(KindCall)}},
		{"truncated", append(valid[:len(valid)/2:len(valid)/2], 0, 0, 0, 0)},
		{"chunk longer than frame", binary.BigEndian.AppendUint32([]byte{byte(KindCancel), 1}, 1000)},
		{"trailing bytes", append(append(valid[:len(valid)-4:len(valid)-4], 9), 0, 0, 0, 0)},
		{"huge count", binary.BigEndian.AppendUint32(binary.AppendUvarint([]byte{byte(KindResult), 1}, 1<<40), 0)},
		{"not a binary kind", binary.BigEndian.AppendUint32([]byte{byte(KindLoad), 1}, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeBinary(tt.body); !errors.Is(err, errMalformed) {
				t.Errorf("decode error = %v, want errMalformed", err)
			}
		})
	}
}

func TestBinaryRejectsDeepValue(t *testing.T) {
	value := any("leaf")
	for range maxValueDepth + 2 {
		value = []any{value}
	}
	call := benchCall()
	call.Call.Exchange.Vars = map[string]any{"deep": value}
	var e encoder
	if err := e.frame(call); err == nil {
		t.Error("encode of a value nested too deep succeeded, want an error")
	}
}

func TestReceiveRejectsEmptyFrame(t *testing.T) {
	conn := NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{bytes.NewReader([]byte{0, 0, 0, 0}), io.Discard, io.NopCloser(nil)})
	if _, err := conn.Receive(); !errors.Is(err, errMalformed) {
		t.Errorf("Receive error = %v, want errMalformed", err)
	}
}

// FuzzReceive feeds arbitrary frames to Receive, which must return a frame
// or an error and never panic.
func FuzzReceive(f *testing.F) {
	f.Add(encodeFrame(f, benchCall()))
	f.Add(encodeFrame(f, &Frame{Kind: KindResult, ID: 3, Result: &Result{Steps: []Outcome{{Ran: true, Err: "x"}}, Exchange: Exchange{Vars: map[string]any{"a": []any{int64(1)}}}}}))
	f.Add(encodeFrame(f, &Frame{Kind: KindUnload, Set: 9}))
	f.Add([]byte{byte(KindHostCall), 1, 2, 3})

	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > MaxFrame {
			return
		}
		var stream bytes.Buffer
		stream.Write(binary.BigEndian.AppendUint32(nil, uint32(len(body))))
		stream.Write(body)
		conn := NewConn(struct {
			io.Reader
			io.Writer
			io.Closer
		}{&stream, io.Discard, io.NopCloser(nil)})

		frame, err := conn.Receive()
		if err == nil && frame == nil {
			t.Fatal("Receive returned neither a frame nor an error")
		}
		if err == nil && frame.Kind == KindCall {
			// A decoded call must encode again.
			var e encoder
			if err := e.frame(frame); err != nil {
				t.Fatalf("encode of a decoded call: %v", err)
			}
		}
	})
}

// TestBinaryResultKeepsOutcomes checks that each outcome's flags, error
// and time survive the binary encoding.
func TestBinaryResultKeepsOutcomes(t *testing.T) {
	want := []Outcome{
		{Ran: true, BufferBody: true, Elapsed: 1500 * time.Microsecond},
		{Ran: true, Err: "boom", Deadline: true, Elapsed: 3},
		{},
	}
	got, err := decodeBinary(encodeFrame(t, &Frame{Kind: KindResult, ID: 7, Result: &Result{Steps: want}}))
	if err != nil {
		t.Fatalf("decode result: %v", err)
	}

	if len(got.Result.Steps) != len(want) {
		t.Fatalf("decoded %d outcomes, want %d", len(got.Result.Steps), len(want))
	}
	for i := range want {
		if got.Result.Steps[i] != want[i] {
			t.Errorf("outcome %d = %+v, want %+v", i, got.Result.Steps[i], want[i])
		}
	}
}
