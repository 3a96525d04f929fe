package worker

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"net/http"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// benchCall is a typical Call: 5 steps and a request with a few headers
// and ctx.vars entries.
func benchCall() *Frame {
	steps := make([]Step, 5)
	for i := range steps {
		steps[i] = Step{Index: i, Timeout: 50_000_000}
	}
	return &Frame{Kind: KindCall, ID: 42, Call: &Call{
		Set:   1,
		Phase: pluginhost.PhaseRewrite,
		Steps: steps,
		Exchange: Exchange{
			Request: pluginhost.Request{
				Method: "GET", Host: "acme.localhost", Path: "/api/orders", RawQuery: "page=2",
				Header: http.Header{"User-Agent": {"curl/8.5"}, "Accept": {"*/*"}, "Authorization": {"Bearer abc.def.ghi"}, "X-Request-Id": {"0123456789abcdef"}},
				Scheme: "https", ClientAddr: "127.0.0.1", Tenant: "acme", Route: "orders",
			},
			Response:  pluginhost.Response{Header: http.Header{}},
			RequestID: "0123456789abcdef",
			Vars:      map[string]any{"consumer": "alice", "hits": int64(3)},
		},
	}}
}

// BenchmarkCodec compares encoding and decoding one Call frame with the
// binary encoding that Conn uses for it, with a gob stream (the encoding
// before it) and with JSON.
func BenchmarkCodec(b *testing.B) {
	frame := benchCall()

	b.Run("binary", func(b *testing.B) {
		var e encoder
		b.ReportAllocs()
		for b.Loop() {
			e.buf = e.buf[:0]
			if err := e.frame(frame); err != nil {
				b.Fatal(err)
			}
			if _, err := decodeBinary(e.buf); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("gob", func(b *testing.B) {
		var stream bytes.Buffer
		enc := gob.NewEncoder(&stream)
		dec := gob.NewDecoder(&stream)
		b.ReportAllocs()
		for b.Loop() {
			if err := enc.Encode(frame); err != nil {
				b.Fatal(err)
			}
			var got Frame
			if err := dec.Decode(&got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(frame)
			if err != nil {
				b.Fatal(err)
			}
			var got Frame
			if err := json.Unmarshal(data, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
