package proxy

import "sync"

// copyBufferSize is the size of the buffers that copy response bodies to
// the client, the size httputil.ReverseProxy allocates when it has no pool.
const copyBufferSize = 32 << 10

// copyBuffers keeps the buffers of response body copies between requests.
// Without it the reverse proxy allocates and zeroes a new 32 KiB buffer for
// every response, and that garbage sets the pace of the collector under
// load. The pool holds array pointers, so a Put allocates nothing.
type copyBuffers struct {
	pool sync.Pool
}

func newCopyBuffers() *copyBuffers {
	return &copyBuffers{pool: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

// Get returns a buffer of copyBufferSize bytes.
func (c *copyBuffers) Get() []byte {
	return c.pool.Get().(*[copyBufferSize]byte)[:]
}

// Put keeps buf for a later Get. A buffer of another size, which Get never
// hands out, is dropped.
func (c *copyBuffers) Put(buf []byte) {
	if len(buf) != copyBufferSize {
		return
	}
	c.pool.Put((*[copyBufferSize]byte)(buf))
}
