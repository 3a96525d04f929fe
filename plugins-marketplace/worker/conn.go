package worker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"io"
	"sync"
)

// MaxFrame is the largest frame either side accepts, in bytes. It leaves
// room for a buffered body of pluginhost.MaxBufferedBody (1 MiB) in both
// the request and the response of a call, with their headers.
const MaxFrame = 8 << 20

// keptBuffer is the largest frame buffer a Conn keeps for the next frame,
// in bytes. A larger frame gets a buffer of its own, so one big body does
// not pin its memory for the life of the connection.
const keptBuffer = 64 << 10

func init() {
	// The JSON-like values of ctx.kv and log fields in host calls travel as
	// interface values, which gob sends by registered name.
	gob.Register([]any{})
	gob.Register(map[string]any{})
}

// Conn sends and receives frames on a stream. Each frame is a 4-byte
// big-endian length, then that many bytes: a kind byte and the payload.
// Call, Result, Cancel and Unload use the binary encoding of wire.go. The
// rare frames (Load, Loaded, HostCall, HostReply, Verify, Verified, Trace,
// Traced) carry the next part of a gob stream that stays open per
// direction, so gob describes each type once per connection. Send is safe
// for concurrent use. Receive is not, so one goroutine reads.
type Conn struct {
	rw io.ReadWriteCloser

	sendMu sync.Mutex
	enc    encoder
	gobEnc *gob.Encoder
	// primed records that the prime frame was sent (see encode).
	primed bool

	in     *bufio.Reader
	body   []byte
	gobIn  bytes.Reader
	gobDec *gob.Decoder
	// primeReceived records that the peer's prime frame arrived, so a
	// second one is rejected.
	primeReceived bool
}

// NewConn returns a Conn on rw, which it closes on Close.
func NewConn(rw io.ReadWriteCloser) *Conn {
	// The read buffer takes a frame's length and body in one system call
	// when both have arrived.
	c := &Conn{rw: rw, in: bufio.NewReaderSize(rw, keptBuffer)}
	c.gobEnc = gob.NewEncoder(appendWriter{&c.enc})
	c.gobDec = gob.NewDecoder(&c.gobIn)
	return c
}

// Send writes one frame with a single write to the stream. When f does
// not encode or is above MaxFrame, Send still writes the prime frame that
// it encoded before f, if any.
func (c *Conn) Send(f *Frame) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()

	c.enc.buf = c.enc.buf[:0]
	err := c.encode(f)
	if len(c.enc.buf) > 0 {
		if _, writeErr := c.rw.Write(c.enc.buf); err == nil {
			err = writeErr
		}
	}
	if cap(c.enc.buf) > keptBuffer {
		c.enc.buf = nil
	}
	return err
}

// primeFrame is the payload of the prime frame. Gob describes a struct
// with the types of its fields, so the Frame type covers every struct of
// the rare frames. The []any and map[string]any in its interface field
// cover the types registered for interface values, whose other values are
// predeclared types or fail to encode.
var primeFrame = &Frame{Kind: KindPrime, HostReply: &HostReply{Value: []any{map[string]any{}}}}

// encode appends f as a frame to the send buffer, or leaves it as it was
// when f does not encode or is above MaxFrame. Before the first rare frame
// it appends the prime frame, which describes the gob types up front. A
// rare frame that is dropped for its size then describes no type, so the
// gob streams of the two sides stay in step.
func (c *Conn) encode(f *Frame) error {
	if !binaryKind(f.Kind) && !c.primed {
		if err := c.appendFrame(primeFrame); err != nil {
			return err
		}
		c.primed = true
	}
	return c.appendFrame(f)
}

// appendFrame appends f as a frame to the send buffer, or leaves it as it
// was when f does not encode or is above MaxFrame.
func (c *Conn) appendFrame(f *Frame) error {
	e := &c.enc
	start := len(e.buf)
	e.buf = append(e.buf, 0, 0, 0, 0)
	var err error
	if binaryKind(f.Kind) {
		err = e.frame(f)
	} else {
		e.byte(byte(f.Kind))
		err = c.gobEnc.Encode(f)
	}
	if err != nil {
		e.buf = e.buf[:start]
		return fmt.Errorf("encode frame of kind %d: %w", f.Kind, err)
	}

	size := len(e.buf) - start - 4
	if size > MaxFrame {
		e.buf = e.buf[:start]
		return fmt.Errorf("frame of %d bytes is above the limit of %d bytes", size, MaxFrame)
	}
	binary.BigEndian.PutUint32(e.buf[start:], uint32(size))
	return nil
}

// Receive reads the next frame. It reads the peer's prime frame without
// returning it. It fails on a frame above MaxFrame, on a frame that does
// not decode and on a second prime frame, and then the connection is
// unusable.
func (c *Conn) Receive() (*Frame, error) {
	f, err := c.receiveFrame()
	if err != nil || f.Kind != KindPrime {
		return f, err
	}
	if c.primeReceived {
		return nil, fmt.Errorf("%w: a second prime frame", errMalformed)
	}
	c.primeReceived = true
	return c.receiveFrame()
}

// receiveFrame reads and decodes one frame.
func (c *Conn) receiveFrame() (*Frame, error) {
	var header [4]byte
	if _, err := io.ReadFull(c.in, header[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(header[:])
	if size > MaxFrame {
		return nil, fmt.Errorf("frame of %d bytes is above the limit of %d bytes", size, MaxFrame)
	}
	if size == 0 {
		return nil, fmt.Errorf("%w: empty frame", errMalformed)
	}

	body := c.body[:0]
	if size <= keptBuffer {
		if c.body == nil {
			c.body = make([]byte, keptBuffer)
		}
		body = c.body[:size]
	} else {
		body = make([]byte, size)
	}
	if _, err := io.ReadFull(c.in, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}

	kind := Kind(body[0])
	if binaryKind(kind) {
		return decodeBinary(body)
	}
	return c.decodeGob(kind, body[1:])
}

// decodeGob decodes the gob part of a rare frame. The decoder reads
// exactly the messages of one Encode, so data left over is an error.
func (c *Conn) decodeGob(kind Kind, data []byte) (*Frame, error) {
	c.gobIn.Reset(data)
	f := new(Frame)
	if err := c.gobDec.Decode(f); err != nil {
		return nil, fmt.Errorf("%w: decode frame of kind %d: %w", errMalformed, kind, err)
	}
	if c.gobIn.Len() != 0 || f.Kind != kind {
		return nil, fmt.Errorf("%w: frame of kind %d has %d bytes after its payload or a payload of kind %d", errMalformed, kind, c.gobIn.Len(), f.Kind)
	}
	return f, nil
}

// Close closes the stream.
func (c *Conn) Close() error {
	return c.rw.Close()
}

// appendWriter appends what gob writes to the frame being encoded.
type appendWriter struct{ e *encoder }

func (w appendWriter) Write(p []byte) (int, error) {
	w.e.buf = append(w.e.buf, p...)
	return len(p), nil
}
