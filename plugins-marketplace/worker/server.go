package worker

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// maxCompiled bounds the compiled plugin versions a worker keeps for
// later loads. Past it the cache starts over; runtimes keep their own
// references.
const maxCompiled = 256

// server is the worker's side of one connection.
type server struct {
	conn *Conn

	mu       sync.Mutex
	sets     map[uint64]*loadedSet
	calls    map[uint64]context.CancelFunc
	compiled map[string]*pluginhost.Plugin

	// jobs hands calls to idle runner goroutines.
	jobs chan callJob

	hostMu    sync.Mutex
	nextHost  uint64
	hostCalls map[uint64]chan *HostReply
}

// loadedSet is a Load, compiled and bound.
type loadedSet struct {
	instances []*pluginhost.Instance
}

// Serve handles the frames that arrive on conn until it fails or closes,
// and returns the error that ended it. Loads run in arrival order, before
// the frames after them are read, so a Call never arrives ahead of its
// set. Calls run concurrently.
func Serve(conn *Conn) error {
	s := &server{
		conn:      conn,
		sets:      map[uint64]*loadedSet{},
		calls:     map[uint64]context.CancelFunc{},
		compiled:  map[string]*pluginhost.Plugin{},
		hostCalls: map[uint64]chan *HostReply{},
		jobs:      make(chan callJob),
	}
	for {
		f, err := conn.Receive()
		if err != nil {
			return err
		}
		if err := s.dispatch(f); err != nil {
			return err
		}
	}
}

func (s *server) dispatch(f *Frame) error {
	switch f.Kind {
	case KindLoad:
		if f.Load == nil {
			return errors.New("load frame without a load")
		}
		return s.conn.Send(&Frame{Kind: KindLoaded, ID: f.ID, Loaded: s.load(f.Load)})
	case KindUnload:
		s.mu.Lock()
		delete(s.sets, f.Set)
		s.mu.Unlock()
	case KindCall:
		if f.Call == nil {
			return errors.New("call frame without a call")
		}
		s.startCall(f.ID, f.Call)
	case KindVerify:
		if f.Verify == nil {
			return errors.New("verify frame without a verify")
		}
		return s.startVerify(f.ID, f.Verify)
	case KindTrace:
		if f.Trace == nil {
			return errors.New("trace frame without a trace")
		}
		s.startTrace(f.ID, f.Trace)
	case KindCancel:
		s.mu.Lock()
		cancel := s.calls[f.ID]
		s.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	case KindHostReply:
		s.hostMu.Lock()
		reply := s.hostCalls[f.ID]
		delete(s.hostCalls, f.ID)
		s.hostMu.Unlock()
		if reply != nil && f.HostReply != nil {
			reply <- f.HostReply
		}
	default:
		return fmt.Errorf("unexpected frame kind %d", f.Kind)
	}
	return nil
}

// load compiles and binds every binding of l, and stores the set.
func (s *server) load(l *Load) *Loaded {
	set := &loadedSet{instances: make([]*pluginhost.Instance, len(l.Bindings))}
	loaded := &Loaded{Hooks: make([]uint8, len(l.Bindings))}
	for i, b := range l.Bindings {
		plugin, err := s.compile(b)
		if err != nil {
			return &Loaded{Err: fmt.Sprintf("binding %q: %v", b.ID, err)}
		}
		instance, err := plugin.BindWith(b.Config, pluginhost.BindOptions{Tenant: l.Tenant, Binding: b.ID, AllowHosts: b.AllowHosts})
		if err != nil {
			return &Loaded{Err: fmt.Sprintf("binding %q: %v", b.ID, err)}
		}
		set.instances[i] = instance
		loaded.Hooks[i] = hookMask(plugin)
	}

	s.mu.Lock()
	s.sets[l.Set] = set
	s.mu.Unlock()
	return loaded
}

// compile returns the compiled plugin of b, compiling it on first use.
func (s *server) compile(b Binding) (*pluginhost.Plugin, error) {
	key := fmt.Sprintf("%s@%s@%x", b.Plugin, b.Version, sha256.Sum256([]byte(b.Source)))
	if plugin, ok := s.compiled[key]; ok {
		return plugin, nil
	}

	plugin, err := pluginhost.Compile(b.Plugin, b.Version, b.Source)
	if err != nil {
		return nil, fmt.Errorf("compile plugin %q version %q: %w", b.Plugin, b.Version, err)
	}
	if len(s.compiled) >= maxCompiled {
		clear(s.compiled)
	}
	s.compiled[key] = plugin
	return plugin, nil
}

// hookMask returns bit i set for each pluginhost.Phases[i] that p has a
// hook for.
func hookMask(p *pluginhost.Plugin) uint8 {
	var mask uint8
	for i, phase := range pluginhost.Phases {
		if p.Has(phase) {
			mask |= 1 << i
		}
	}
	return mask
}

// callJob is a Call waiting for a runner goroutine.
type callJob struct {
	id     uint64
	call   *Call
	set    *loadedSet
	ctx    context.Context
	cancel context.CancelFunc
}

// runnerIdle is how long a runner goroutine waits for the next call before
// it exits. Runners are kept because a new goroutine starts with a small
// stack, and growing it to the depth of a Risor call costs more than the
// hooks of a light plugin.
const runnerIdle = 10 * time.Second

// startCall hands c to an idle runner goroutine, or starts one.
func (s *server) startCall(id uint64, c *Call) {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	set := s.sets[c.Set]
	s.calls[id] = cancel
	s.mu.Unlock()

	job := callJob{id: id, call: c, set: set, ctx: ctx, cancel: cancel}
	select {
	case s.jobs <- job:
	default:
		go s.runCalls(job)
	}
}

// runCalls runs job and then the calls handed to it, until it has idled
// for runnerIdle.
func (s *server) runCalls(job callJob) {
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		s.finish(job)

		idle.Reset(runnerIdle)
		select {
		case job = <-s.jobs:
		case <-idle.C:
			return
		}
	}
}

// finish runs one call and sends its Result.
func (s *server) finish(job callJob) {
	result := s.run(job.ctx, job.id, job.set, job.call)
	job.cancel()

	s.mu.Lock()
	delete(s.calls, job.id)
	s.mu.Unlock()
	// A failed send means the connection is gone, and the read loop ends
	// the worker.
	_ = s.conn.Send(&Frame{Kind: KindResult, ID: job.id, Result: result})
}

// hostCall sends hc and waits for its reply until ctx ends.
func (s *server) hostCall(ctx context.Context, hc *HostCall) (*HostReply, error) {
	reply := make(chan *HostReply, 1)
	s.hostMu.Lock()
	s.nextHost++
	id := s.nextHost
	s.hostCalls[id] = reply
	s.hostMu.Unlock()

	forget := func() {
		s.hostMu.Lock()
		delete(s.hostCalls, id)
		s.hostMu.Unlock()
	}
	if err := s.conn.Send(&Frame{Kind: KindHostCall, ID: id, HostCall: hc}); err != nil {
		forget()
		return nil, fmt.Errorf("send host call %q: %w", hc.Method, err)
	}

	select {
	case r := <-reply:
		return r, nil
	case <-ctx.Done():
		forget()
		return nil, fmt.Errorf("host call %q: %w", hc.Method, ctx.Err())
	}
}
