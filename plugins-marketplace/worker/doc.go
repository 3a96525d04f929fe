// Package worker runs untrusted plugin hooks in a separate process and
// defines the protocol between that process and the edge.
//
// The edge starts one worker per tenant (by default) and talks to it over a
// Unix socket. Every message is a Frame. A frame on the wire is a 4-byte
// big-endian length followed by that many bytes of a gob stream, which the
// connection keeps open in each direction, so gob sends each type's
// description only once. The edge sends Load before any Call for a binding
// set, one Call per phase of a request, and a HostReply for each of the
// worker's HostCalls. The worker replies to Load with Loaded and to Call
// with Result, tagged with the same id, and serves many calls at once.
package worker
