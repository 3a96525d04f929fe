package worker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// trailerSize is the size of a binary frame's chunk length trailer.
const trailerSize = 4

// binaryKind reports whether frames of kind k use the binary encoding.
func binaryKind(k Kind) bool {
	return k == KindCall || k == KindResult || k == KindCancel || k == KindUnload
}

// sections are the encoded request, response and ctx.vars of a Call as it
// arrived, which the worker compares with its Result to leave out the
// sections that no hook changed.
type sections struct {
	request  string
	response string
	vars     string
	chunk    []byte
}

// Bits of Exchange.unchanged: the sections of a Result that the worker
// left out because the hooks did not change them.
const (
	unchangedRequest = 1 << iota
	unchangedResponse
	unchangedVars
)

// frame appends the body of f, a frame of a binary kind, to e.buf.
func (e *encoder) frame(f *Frame) error {
	e.byte(byte(f.Kind))
	e.uvarint(f.ID)

	var chunk []byte
	switch f.Kind {
	case KindUnload:
		e.uvarint(f.Set)
	case KindCancel:
	case KindCall:
		if f.Call == nil {
			return fmt.Errorf("call frame %d without a call", f.ID)
		}
		e.call(f.Call)
		if err := e.exchange(&f.Call.Exchange, nil); err != nil {
			return err
		}
		chunk = f.Call.Exchange.Response.Chunk
	case KindResult:
		if f.Result == nil {
			return fmt.Errorf("result frame %d without a result", f.ID)
		}
		e.outcomes(f.Result.Steps)
		if err := e.exchange(&f.Result.Exchange, f.Result.base); err != nil {
			return err
		}
		if f.Result.Exchange.unchanged&unchangedResponse == 0 {
			chunk = f.Result.Exchange.Response.Chunk
		}
	}

	marker := uint32(0)
	if chunk != nil {
		if len(chunk) > MaxFrame {
			return fmt.Errorf("response chunk of %d bytes is above the frame limit of %d bytes", len(chunk), MaxFrame)
		}
		marker = uint32(len(chunk)) + 1
		e.buf = append(e.buf, chunk...)
	}
	e.buf = binary.BigEndian.AppendUint32(e.buf, marker)
	return nil
}

func (e *encoder) call(c *Call) {
	e.uvarint(c.Set)
	e.string(string(c.Phase))
	e.uvarint(uint64(len(c.Steps)))
	for _, step := range c.Steps {
		var flags byte
		if step.FailOpen {
			flags |= stepFailOpen
		}
		if step.Quarantined {
			flags |= stepQuarantined
		}
		e.varint(int64(step.Index))
		e.varint(int64(step.Timeout))
		e.byte(flags)
	}
}

func (e *encoder) outcomes(outcomes []Outcome) {
	e.uvarint(uint64(len(outcomes)))
	for _, o := range outcomes {
		var flags byte
		if o.Ran {
			flags |= outcomeRan
		}
		if o.Deadline {
			flags |= outcomeDeadline
		}
		if o.BufferBody {
			flags |= outcomeBufferBody
		}
		e.byte(flags)
		e.string(o.Err)
		e.uvarint(uint64(max(o.Elapsed, 0)))
	}
}

// exchange writes x. When base (the sections of the Call) is set, a
// section equal to its base goes out as sectionUnchanged, and x.unchanged
// records which ones did.
func (e *encoder) exchange(x *Exchange, base *sections) error {
	x.unchanged = 0

	mark := len(e.buf)
	e.byte(sectionPresent)
	e.request(&x.Request)
	if base != nil && string(e.buf[mark+1:]) == base.request {
		e.buf = append(e.buf[:mark], sectionUnchanged)
		x.unchanged |= unchangedRequest
	}

	mark = len(e.buf)
	e.byte(sectionPresent)
	e.response(&x.Response)
	if base != nil && string(e.buf[mark+1:]) == base.response && sameChunk(x.Response.Chunk, base.chunk) {
		e.buf = append(e.buf[:mark], sectionUnchanged)
		x.unchanged |= unchangedResponse
	}

	e.string(x.RequestID)

	mark = len(e.buf)
	e.byte(sectionPresent)
	if err := e.vars(x.Vars); err != nil {
		return err
	}
	if base != nil && string(e.buf[mark+1:]) == base.vars {
		e.buf = append(e.buf[:mark], sectionUnchanged)
		x.unchanged |= unchangedVars
	}

	e.bool(x.Exit != nil)
	if x.Exit != nil {
		e.varint(int64(x.Exit.Status))
		e.string(x.Exit.Body)
	}
	return nil
}

func sameChunk(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

func (e *encoder) request(r *pluginhost.Request) {
	e.string(r.Method)
	e.string(r.Host)
	e.string(r.Path)
	e.string(r.RawQuery)
	e.header(r.Header)
	e.string(r.Scheme)
	e.string(r.ClientAddr)
	e.string(r.Tenant)
	e.string(r.Route)
	e.params(r.Params)
	e.string(r.Consumer)
}

// response writes r without its chunk, which goes at the end of the frame.
func (e *encoder) response(r *pluginhost.Response) {
	var flags byte
	if r.EOF {
		flags |= responseEOF
	}
	if r.BufferBody {
		flags |= responseBufferBody
	}
	e.varint(int64(r.Status))
	e.header(r.Header)
	e.byte(flags)
}

// decodeBinary decodes body, a frame of a binary kind.
func decodeBinary(body []byte) (*Frame, error) {
	if len(body) < 1+trailerSize {
		return nil, fmt.Errorf("%w: %d bytes is too short", errMalformed, len(body))
	}
	marker := binary.BigEndian.Uint32(body[len(body)-trailerSize:])
	fields := body[:len(body)-trailerSize]
	var chunk []byte
	if marker > 0 {
		size := uint64(marker - 1)
		if size > uint64(len(fields)) {
			return nil, fmt.Errorf("%w: chunk of %d bytes in a frame of %d bytes", errMalformed, size, len(body))
		}
		split := len(fields) - int(size)
		chunk = bytes.Clone(fields[split:])
		if chunk == nil {
			chunk = []byte{}
		}
		fields = fields[:split]
	}

	d := &decoder{s: string(fields)}
	f := &Frame{Kind: Kind(d.byte()), ID: d.uvarint()}
	switch f.Kind {
	case KindUnload:
		f.Set = d.uvarint()
	case KindCancel:
	case KindCall:
		f.Call = d.call(chunk)
	case KindResult:
		f.Result = d.result(chunk)
	default:
		return nil, fmt.Errorf("%w: kind %d is not a binary kind", errMalformed, f.Kind)
	}

	if d.err == nil && d.off != len(d.s) {
		d.fail("frame end")
	}
	if d.err != nil {
		return nil, d.err
	}
	return f, nil
}

func (d *decoder) call(chunk []byte) *Call {
	c := &Call{Set: d.uvarint(), Phase: pluginhost.Phase(d.string())}
	n := d.count()
	c.Steps = make([]Step, 0, min(n, maxPrealloc))
	for range n {
		index := d.int()
		timeout := d.varint()
		flags := d.byte()
		c.Steps = append(c.Steps, Step{Index: index, Timeout: time.Duration(timeout), FailOpen: flags&stepFailOpen != 0, Quarantined: flags&stepQuarantined != 0})
	}
	c.sent = &sections{chunk: chunk}
	d.exchange(&c.Exchange, chunk, c.sent)
	return c
}

func (d *decoder) result(chunk []byte) *Result {
	r := &Result{}
	n := d.count()
	r.Steps = make([]Outcome, 0, min(n, maxPrealloc))
	for range n {
		flags := d.byte()
		outcome := Outcome{Ran: flags&outcomeRan != 0, Deadline: flags&outcomeDeadline != 0, BufferBody: flags&outcomeBufferBody != 0, Err: d.string()}
		outcome.Elapsed = time.Duration(min(d.uvarint(), math.MaxInt64))
		r.Steps = append(r.Steps, outcome)
	}
	d.exchange(&r.Exchange, chunk, nil)
	return r
}

// exchange reads x. With sent, it records the encoded sections there.
func (d *decoder) exchange(x *Exchange, chunk []byte, sent *sections) {
	if d.section() {
		start := d.off
		d.request(&x.Request)
		if sent != nil && d.err == nil {
			sent.request = d.s[start:d.off]
		}
	} else {
		x.unchanged |= unchangedRequest
	}

	if d.section() {
		start := d.off
		d.response(&x.Response)
		x.Response.Chunk = chunk
		if sent != nil && d.err == nil {
			sent.response = d.s[start:d.off]
		}
	} else {
		x.unchanged |= unchangedResponse
	}

	x.RequestID = d.string()

	if d.section() {
		start := d.off
		x.Vars = d.vars()
		if sent != nil && d.err == nil {
			sent.vars = d.s[start:d.off]
		}
	} else {
		x.unchanged |= unchangedVars
	}

	if d.bool() {
		x.Exit = &pluginhost.Exit{Status: d.int(), Body: d.string()}
	}
}

// section reads a section marker and reports whether the section follows.
func (d *decoder) section() bool {
	switch d.byte() {
	case sectionUnchanged:
		return false
	case sectionPresent:
		return true
	}
	d.fail("section marker")
	return false
}

// int reads a varint that must fit an int32, such as a status code.
func (d *decoder) int() int {
	v := d.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("integer")
		return 0
	}
	return int(v)
}

func (d *decoder) request(r *pluginhost.Request) {
	r.Method = d.string()
	r.Host = d.string()
	r.Path = d.string()
	r.RawQuery = d.string()
	r.Header = d.header()
	r.Scheme = d.string()
	r.ClientAddr = d.string()
	r.Tenant = d.string()
	r.Route = d.string()
	r.Params = d.params()
	r.Consumer = d.string()
}

func (d *decoder) response(r *pluginhost.Response) {
	r.Status = d.int()
	r.Header = d.header()
	flags := d.byte()
	r.EOF = flags&responseEOF != 0
	r.BufferBody = flags&responseBufferBody != 0
}
