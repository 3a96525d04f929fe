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

	// sendMu guards the sending side. enc.buf holds the frames that wait
	// for a write. writing is set while a Send writes them, with sendMu
	// released, and spare is the buffer of the last write, kept for the
	// next batch. sendErr is the first failed write, which fails every
	// later Send.
	sendMu  sync.Mutex
	enc     encoder
	gobEnc  *gob.Encoder
	writing bool
	spare   []byte
	sendErr error

	in     *bufio.Reader
	body   []byte
	gobIn  bytes.Reader
	gobDec *gob.Decoder
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

// Send encodes f and writes it to the stream. Concurrent Sends share
// writes: a Send that finds another one writing queues its frame and
// returns, and the writing Send writes the queued frames in one system
// call once its own write ends. Frames reach the stream in the order their
// Sends queued them. An error of a queued frame's write reaches a later
// Send, and the peer sees the stream break.
func (c *Conn) Send(f *Frame) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()

	if c.sendErr != nil {
		return c.sendErr
	}
	if err := c.encode(f); err != nil {
		return err
	}
	if c.writing {
		return nil
	}

	c.writing = true
	defer func() { c.writing = false }()
	return c.flush()
}

// encode appends f as a frame to the queued frames, or leaves them as they
// were when f does not encode or is above MaxFrame.
func (c *Conn) encode(f *Frame) error {
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

// flush writes the queued frames until none is left, releasing sendMu
// during each write so other Sends can queue theirs. The caller holds
// sendMu and has set writing.
func (c *Conn) flush() error {
	for len(c.enc.buf) > 0 {
		batch := c.enc.buf
		c.enc.buf = c.spare[:0]
		c.spare = nil

		c.sendMu.Unlock()
		_, err := c.rw.Write(batch)
		c.sendMu.Lock()

		if cap(batch) <= keptBuffer {
			c.spare = batch[:0]
		}
		if err != nil {
			c.sendErr = err
			c.enc.buf = c.enc.buf[:0]
			return err
		}
	}
	if cap(c.enc.buf) > keptBuffer {
		c.enc.buf = nil
	}
	return nil
}

// Receive reads the next frame. It fails on a frame above MaxFrame and on
// a frame that does not decode, and then the connection is unusable.
func (c *Conn) Receive() (*Frame, error) {
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
