package worker

import (
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// Kind names the payload field of a Frame.
type Kind uint8

// Frame kinds. The comment names the side that sends each.
const (
	// KindLoad (edge) compiles and binds a binding set.
	KindLoad Kind = iota + 1
	// KindLoaded (worker) replies to a Load.
	KindLoaded
	// KindUnload (edge) drops a binding set that no runtime uses any more.
	KindUnload
	// KindCall (edge) runs the steps of one phase of one request.
	KindCall
	// KindResult (worker) replies to a Call.
	KindResult
	// KindCancel (edge) stops a Call that the edge abandoned.
	KindCancel
	// KindHostCall (worker) requests one host API call from the edge.
	KindHostCall
	// KindHostReply (edge) replies to a HostCall.
	KindHostReply
	// KindVerify (edge) runs a plugin version's test vectors.
	KindVerify
	// KindVerified (worker) replies to a Verify.
	KindVerified
	// KindTrace (edge or portal) runs a chain against a sample request.
	KindTrace
	// KindTraced (worker) replies to a Trace.
	KindTraced
	// KindPrime (either side) goes before the first rare frame on a
	// connection. It describes the gob types of the rare frames (see
	// Conn) and carries nothing else. Receive reads it and returns the
	// frame after it.
	KindPrime
)

// Frame is one message. ID ties a reply to its request: Loaded, Result,
// Verified and Traced carry the id of their Load, Call, Verify and Trace,
// Cancel the id of its Call, Verify or Trace, and HostReply the id of its
// HostCall. Exactly one
// pointer field is set, the one that Kind names, except for Unload and
// Cancel, which carry only ids.
type Frame struct {
	Kind Kind
	ID   uint64
	// Set is the binding set of Unload.
	Set uint64

	Load      *Load
	Loaded    *Loaded
	Call      *Call
	Result    *Result
	HostCall  *HostCall
	HostReply *HostReply
	Verify    *Verify
	Verified  *Verified
	Trace     *Trace
	Traced    *Traced
}

// Load is a tenant's set of sandboxed bindings at one runtime revision.
type Load struct {
	Set      uint64
	Tenant   string
	Bindings []Binding
}

// Binding is one binding of a Load, with its plugin's source.
type Binding struct {
	ID         string
	Plugin     string
	Version    string
	Source     string
	Config     []byte
	AllowHosts []string
}

// Loaded is the reply to Load. Hooks has one entry per binding: bit i is set when
// the plugin has a hook for pluginhost.Phases[i]. Err is set when any
// binding failed to compile or bind, and then the set is not loaded.
type Loaded struct {
	Hooks []uint8
	Err   string
	// Static has one entry per binding when the set has a static hook
	// (pluginhost.Instance.StaticChanges), whose changes the edge may
	// make itself instead of calling the worker.
	Static []StaticHooks
}

// StaticHooks are the static hooks of one binding: Mask has bit i set
// when the hook for pluginhost.Phases[i] is static, and Changes[i] holds
// its changes.
type StaticHooks struct {
	Mask    uint8
	Changes [][]pluginhost.HeaderChange
}

// maxStaticBytes caps the static changes in one Loaded, each counted as
// its name and value and staticChangeOverhead. The hooks beyond it are
// left to the worker, so a set of many large static hooks still loads.
const (
	maxStaticBytes       = 64 << 10
	staticChangeOverhead = 16
)

// Call runs Steps, in order, on Exchange for Phase.
type Call struct {
	Set      uint64
	Phase    pluginhost.Phase
	Steps    []Step
	Exchange Exchange

	// sent is the encoded form of Exchange as it arrived, set by the
	// binary decoder.
	sent *sections
}

// Step is one binding of a Call.
type Step struct {
	// Index is the binding's position in its Load.
	Index int
	// Timeout bounds the hook call. Zero sets no deadline.
	Timeout time.Duration
	// FailOpen skips a failing step and runs the next one, as on_error
	// "open" does. Otherwise the first failing step ends the call.
	FailOpen bool
	// Quarantined fails the step without running it.
	Quarantined bool
}

// Result is the reply to Call: the exchange as the steps left it and one outcome
// per step of the call.
type Result struct {
	Exchange Exchange
	Steps    []Outcome

	// base is the encoded exchange of the Call: the encoder leaves out the
	// sections of Exchange that equal it.
	base *sections
}

// Outcome is the result of one step of a Call.
type Outcome struct {
	// Ran is false for the steps after the one that ended the call.
	Ran bool
	// Err is the step's error, empty on success.
	Err string
	// Deadline is set when the step ran past its timeout.
	Deadline bool
	// BufferBody is set when a header_filter hook called
	// ctx.resp.buffer_body().
	BufferBody bool
	// Elapsed is how long the step ran in the worker.
	Elapsed time.Duration
}

// Exchange is pluginhost.Exchange without its Host, which the worker
// replaces with host calls to the edge.
type Exchange struct {
	Request   pluginhost.Request
	Response  pluginhost.Response
	RequestID string
	Vars      map[string]any
	Exit      *pluginhost.Exit

	// unchanged has a bit set for each section (unchangedRequest and the
	// like) that a Result left out, so Apply keeps the edge's own.
	unchanged uint8
}

// Verify runs a plugin version's test vectors under one binding's config:
// the pre-flight of a sandboxed binding. The vectors run as the edge runs
// them in-process (pluginpkg.Run), offline and without Redis.
type Verify struct {
	Plugin  string
	Version string
	Source  string
	// Vectors is the version's test vectors, a JSON array. Empty only
	// compiles the source and runs its top-level code.
	Vectors []byte
	// Config is the binding's config, which the vectors marked
	// binding_config run with. Empty means {}.
	Config []byte
	// Publish runs the vectors as the portal does when a version is
	// published: without a binding, so the vectors marked binding_config
	// are skipped and Config is not used.
	Publish bool
	// Timeout bounds the whole run: a hook that runs at the deadline
	// fails, and the vectors after it are skipped. Zero sets no deadline.
	Timeout time.Duration
}

// Verified is the reply to a Verify. Vector names the first vector that
// failed, empty when none did, and Differences lists what differed. Err is
// set when the vectors did not run: the source does not compile or the
// vectors are invalid. Compile is set, besides Err, when the source does
// not parse or compile.
type Verified struct {
	Vector      string
	Differences []string
	Err         string
	Compile     *pluginhost.CompileError
}

// Trace runs the request phases of a chain against one sample request
// without an upstream, as pluginpkg.TraceChain does, for the portal's try
// of a route.
type Trace struct {
	Steps   []pluginpkg.TraceSource
	Request pluginpkg.VectorRequest
	// HookTimeout bounds each hook, and Timeout the whole run. Zero sets
	// no deadline for the run.
	HookTimeout time.Duration
	Timeout     time.Duration
}

// Traced is the reply to a Trace: the pluginpkg.Trace as JSON, or Err when
// the chain did not run, such as a source that does not compile.
type Traced struct {
	Trace []byte
	Err   string
}

// Host API methods of a HostCall.
const (
	MethodKVGet    = "kv.get"
	MethodKVSet    = "kv.set"
	MethodKVDelete = "kv.delete"
	MethodKVIncr   = "kv.incr"
	MethodLimit    = "limit"
	MethodFetch    = "http"
	MethodLog      = "log"
	MethodReadBody = "req.body"
)

// HostCall is one call of a hook to the edge's pluginhost.Host. Call is the
// id of the Call whose hook makes it, and Binding the id of the calling
// binding. The edge fills the pluginhost.Caller from its own copy of that
// binding, so a worker cannot claim another binding's permissions. The
// edge replies to each HostCall with a HostReply of the frame's id,
// except to a MethodLog call.
type HostCall struct {
	Call    uint64
	Binding string
	Method  string

	Key     string
	Value   any
	TTL     time.Duration
	By      int64
	Backend string
	Limit   int64
	Window  time.Duration
	Request *pluginhost.OutboundRequest
	Level   int
	Message string
	Fields  map[string]any
	// Timeout is the time left until the hook's deadline, zero for none.
	Timeout time.Duration
}

// HostReply is the reply to a HostCall. Err is the host's error, empty on success.
type HostReply struct {
	Value    any
	Found    bool
	Int      int64
	Limit    pluginhost.LimitResult
	Response *pluginhost.OutboundResponse
	Body     []byte
	Err      string
}

// ToWire returns the wire form of ex.
func ToWire(ex *pluginhost.Exchange) Exchange {
	return Exchange{Request: ex.Request, Response: ex.Response, RequestID: ex.RequestID, Vars: ex.Vars, Exit: ex.Exit}
}

// Apply copies w into ex and keeps ex.Host, and the sections that a
// Result left out because no hook changed them. A nil header becomes an
// empty one when ex had one.
func (w *Exchange) Apply(ex *pluginhost.Exchange) {
	hadRequestHeader := ex.Request.Header != nil
	hadResponseHeader := ex.Response.Header != nil

	if w.unchanged&unchangedRequest == 0 {
		ex.Request = w.Request
	}
	if w.unchanged&unchangedResponse == 0 {
		ex.Response = w.Response
	}
	if w.unchanged&unchangedVars == 0 {
		ex.Vars = w.Vars
	}
	ex.RequestID = w.RequestID
	ex.Exit = w.Exit

	if ex.Request.Header == nil && hadRequestHeader {
		ex.Request.Header = map[string][]string{}
	}
	if ex.Response.Header == nil && hadResponseHeader {
		ex.Response.Header = map[string][]string{}
	}
}
