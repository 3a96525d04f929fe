package worker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
)

// The hot frames (Call, Result, Cancel and Unload) use a hand-written
// binary encoding, because gob spent about a third of a call's CPU on
// them. After the kind byte, such a frame holds the id as a uvarint, the
// fields of its kind, the chunk bytes of the exchange's response, and a
// 4-byte big-endian trailer with the chunk's length plus one (0 for no
// chunk). The chunk comes last so that the decoder can copy the fields
// into one string and slice every decoded string out of it.
//
// Integers are varints (encoding/binary), a string is its length and its
// bytes, and a map or list is its length and its entries. A nil map and a
// nil chunk are length 0, and a present one is its length plus one.
// Header, Params and Vars keys go out sorted, so that the same exchange
// always encodes to the same bytes: a worker compares the sections of its
// Result with those of the Call and sends a section only when it changed.

// maxValueDepth bounds the nesting of a decoded ctx.vars value, so that a
// malformed frame cannot exhaust the decoder's stack. pluginhost converts
// values at most 32 levels deep.
const maxValueDepth = 64

// maxPrealloc bounds the entries that the decoder allocates ahead of
// reading them, so a malformed length costs no more memory than the
// entries that follow it.
const maxPrealloc = 64

// Section markers of an exchange in a frame.
const (
	sectionUnchanged = 0
	sectionPresent   = 1
)

// Tags of a ctx.vars value.
const (
	valueNil byte = iota
	valueFalse
	valueTrue
	valueInt
	valueFloat
	valueString
	valueList
	valueMap
)

// Step flags.
const (
	stepFailOpen    = 1 << 0
	stepQuarantined = 1 << 1
)

// Outcome flags.
const (
	outcomeRan        = 1 << 0
	outcomeDeadline   = 1 << 1
	outcomeBufferBody = 1 << 2
)

// Response flags.
const (
	responseEOF        = 1 << 0
	responseBufferBody = 1 << 1
)

// encoder appends the binary encoding to buf. keys is scratch space for
// sorting map keys.
type encoder struct {
	buf  []byte
	keys []string
}

func (e *encoder) byte(b byte) { e.buf = append(e.buf, b) }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *encoder) varint(v int64) { e.buf = binary.AppendVarint(e.buf, v) }

func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) bool(b bool) {
	if b {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

// header writes h with its keys sorted.
func (e *encoder) header(h http.Header) {
	if h == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(h)) + 1)
	e.keys = sortedKeys(h, e.keys[:0])
	for _, key := range e.keys {
		values := h[key]
		e.string(key)
		e.uvarint(uint64(len(values)))
		for _, v := range values {
			e.string(v)
		}
	}
}

// params writes m with its keys sorted.
func (e *encoder) params(m map[string]string) {
	if m == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(m)) + 1)
	e.keys = sortedKeys(m, e.keys[:0])
	for _, key := range e.keys {
		e.string(key)
		e.string(m[key])
	}
}

// vars writes a ctx.vars map with its keys sorted.
func (e *encoder) vars(m map[string]any) error {
	if m == nil {
		e.uvarint(0)
		return nil
	}
	e.uvarint(uint64(len(m)) + 1)
	e.keys = sortedKeys(m, e.keys[:0])
	for _, key := range e.keys {
		e.string(key)
		if err := e.value(m[key], 0); err != nil {
			return fmt.Errorf("ctx.vars[%q]: %w", key, err)
		}
	}
	return nil
}

// value writes one JSON-like value: nil, bool, int64 (or int), float64,
// string, []any or map[string]any.
func (e *encoder) value(v any, depth int) error {
	if depth > maxValueDepth {
		return fmt.Errorf("value is nested deeper than %d levels", maxValueDepth)
	}
	switch v := v.(type) {
	case nil:
		e.byte(valueNil)
	case bool:
		if v {
			e.byte(valueTrue)
		} else {
			e.byte(valueFalse)
		}
	case int64:
		e.byte(valueInt)
		e.varint(v)
	case int:
		e.byte(valueInt)
		e.varint(int64(v))
	case float64:
		e.byte(valueFloat)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v))
	case string:
		e.byte(valueString)
		e.string(v)
	case []any:
		e.byte(valueList)
		e.uvarint(uint64(len(v)))
		for _, item := range v {
			if err := e.value(item, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		e.byte(valueMap)
		e.uvarint(uint64(len(v)))
		for _, key := range sortedKeys(v, nil) {
			e.string(key)
			if err := e.value(v[key], depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("a %T is not JSON-like data: use nil, bool, int64, float64, string, []any or map[string]any", v)
	}
	return nil
}

func sortedKeys[V any](m map[string]V, keys []string) []string {
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

// errMalformed is the error of a frame that does not decode.
var errMalformed = errors.New("malformed frame")

// decoder reads the binary encoding from s. The first error sticks, and
// every later read returns a zero value.
type decoder struct {
	s   string
	off int
	err error
}

func (d *decoder) fail(field string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: invalid %s at byte %d", errMalformed, field, d.off)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || d.off >= len(d.s) {
		d.fail("byte")
		return 0
	}
	b := d.s[d.off]
	d.off++
	return b
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		b := d.byte()
		if d.err != nil {
			return 0
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	d.fail("varint")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// count reads a length of entries that take at least one byte each, so
// a malformed length cannot make the decoder allocate more than the frame
// holds.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.off) {
		d.fail("length")
		return 0
	}
	return int(n)
}

// optionalCount reads the length of a map that may be nil.
func (d *decoder) optionalCount() (int, bool) {
	n := d.uvarint()
	if n == 0 {
		return 0, false
	}
	if n-1 > uint64(len(d.s)-d.off) {
		d.fail("length")
		return 0, false
	}
	return int(n - 1), true
}

func (d *decoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := d.s[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bool")
	return false
}

func (d *decoder) header() http.Header {
	n, ok := d.optionalCount()
	if !ok {
		return nil
	}
	h := make(http.Header, min(n, maxPrealloc))
	for range n {
		key := d.string()
		n := d.count()
		values := make([]string, 0, min(n, maxPrealloc))
		for range n {
			values = append(values, d.string())
		}
		if d.err != nil {
			return nil
		}
		h[key] = values
	}
	return h
}

func (d *decoder) params() map[string]string {
	n, ok := d.optionalCount()
	if !ok {
		return nil
	}
	m := make(map[string]string, min(n, maxPrealloc))
	for range n {
		key := d.string()
		m[key] = d.string()
	}
	return m
}

func (d *decoder) vars() map[string]any {
	n, ok := d.optionalCount()
	if !ok {
		return nil
	}
	m := make(map[string]any, min(n, maxPrealloc))
	for range n {
		key := d.string()
		m[key] = d.value(0)
	}
	return m
}

func (d *decoder) value(depth int) any {
	if depth > maxValueDepth {
		d.fail("value nesting")
		return nil
	}
	switch d.byte() {
	case valueNil:
		return nil
	case valueFalse:
		return false
	case valueTrue:
		return true
	case valueInt:
		return d.varint()
	case valueFloat:
		if len(d.s)-d.off < 8 {
			d.fail("float")
			return nil
		}
		bits := binary.LittleEndian.Uint64([]byte(d.s[d.off : d.off+8]))
		d.off += 8
		return math.Float64frombits(bits)
	case valueString:
		return d.string()
	case valueList:
		n := d.count()
		list := make([]any, 0, min(n, maxPrealloc))
		for range n {
			list = append(list, d.value(depth+1))
		}
		return list
	case valueMap:
		n := d.count()
		m := make(map[string]any, min(n, maxPrealloc))
		for range n {
			key := d.string()
			m[key] = d.value(depth + 1)
		}
		return m
	}
	d.fail("value tag")
	return nil
}
