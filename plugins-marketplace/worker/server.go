package worker

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
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

	// closed is closed when the goroutine that reads at the time finds the
	// connection ended, and endErr is the error that ended it.
	closed  chan struct{}
	endErr  error
	endOnce sync.Once
	// inline is the call that the reading goroutine runs at the moment,
	// and slow hands the reading on when that call runs past
	// inlineLimit.
	inline atomic.Pointer[inlineCall]
	slow   *time.Timer
	// waiting lists the goroutines that handed the reading on earlier and
	// wait for it again (awaitReading), each by the channel that wakes
	// it. handOff wakes the latest, so no new goroutine has to grow its
	// stack to the depth of a Risor call. readersStarted counts the
	// goroutines that handOff had to start.
	waitMu         sync.Mutex
	waiting        []chan struct{}
	readersStarted atomic.Int64

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
// set. The goroutine that reads a Call runs it, and hands the reading on
// to another goroutine when the call waits for the edge or runs long, so
// calls still run concurrently (see inlineCall).
func Serve(conn *Conn) error {
	return newServer(conn).serve()
}

func newServer(conn *Conn) *server {
	s := &server{
		conn:      conn,
		sets:      map[uint64]*loadedSet{},
		calls:     map[uint64]context.CancelFunc{},
		compiled:  map[string]*pluginhost.Plugin{},
		hostCalls: map[uint64]chan *HostReply{},
		closed:    make(chan struct{}),
	}
	s.slow = time.AfterFunc(time.Hour, s.handOffSlow)
	s.slow.Stop()
	return s
}

// serve is Serve on s. The reading runs in goroutines of its own, so
// serve returns as soon as the connection ends, even while a call that
// handed the reading on still runs.
func (s *server) serve() error {
	defer s.slow.Stop()

	go s.read()
	<-s.closed
	return s.endErr
}

// read handles frames until the connection ends, or until this goroutine
// handed the reading on while it ran a call and did not get it back.
func (s *server) read() {
	wake := make(chan struct{}, 1)
	for {
		f, err := s.conn.Receive()
		if err != nil {
			s.end(err)
			return
		}
		if f.Kind == KindCall && f.Call != nil {
			if handed := s.runInline(f.ID, f.Call); handed && !s.awaitReading(wake) {
				return
			}
			continue
		}
		if err := s.dispatch(f); err != nil {
			s.end(err)
			return
		}
	}
}

// end records err as the end of the connection, wakes Serve and the
// goroutines that wait to read again, and cancels the calls in flight,
// whose results can no longer be sent.
func (s *server) end(err error) {
	s.endOnce.Do(func() {
		s.endErr = err
		close(s.closed)

		s.mu.Lock()
		defer s.mu.Unlock()
		for _, cancel := range s.calls {
			cancel()
		}
	})
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
		// read runs every call frame that carries a call, so only one
		// without a call gets here.
		return errors.New("call frame without a call")
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
	loaded.Static = staticHooks(set.instances)

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

// staticHooks returns the static hooks of instances, within
// maxStaticBytes, or nil when they have none.
func staticHooks(instances []*pluginhost.Instance) []StaticHooks {
	hooks := make([]StaticHooks, len(instances))
	found := false
	budget := maxStaticBytes
	for i, instance := range instances {
		for phase, name := range pluginhost.Phases {
			changes, ok := instance.StaticChanges(name)
			if !ok {
				continue
			}
			for _, change := range changes {
				budget -= len(change.Name) + len(change.Value) + staticChangeOverhead
			}
			if budget < 0 {
				return hooksOrNil(hooks, found)
			}

			if hooks[i].Changes == nil {
				hooks[i].Changes = make([][]pluginhost.HeaderChange, len(pluginhost.Phases))
			}
			hooks[i].Mask |= 1 << phase
			hooks[i].Changes[phase] = changes
			found = true
		}
	}
	return hooksOrNil(hooks, found)
}

// hooksOrNil returns hooks when found is set, and nil otherwise.
func hooksOrNil(hooks []StaticHooks, found bool) []StaticHooks {
	if !found {
		return nil
	}
	return hooks
}

// readerIdle is how long a goroutine that handed the reading on waits to
// get it back before it ends.
const readerIdle = 10 * time.Second

// awaitReading waits up to readerIdle for another goroutine's handOff, and
// reports whether the reading is this goroutine's again. It gives up at
// once when the connection ended.
func (s *server) awaitReading(wake chan struct{}) bool {
	timer := time.NewTimer(readerIdle)
	defer timer.Stop()
	s.waitMu.Lock()
	s.waiting = append(s.waiting, wake)
	s.waitMu.Unlock()

	select {
	case <-wake:
		return true
	case <-s.closed:
	case <-timer.C:
	}

	// A handOff that took wake off the list before this goroutine did
	// has handed the reading to this goroutine, so it must read again.
	if s.stopWaiting(wake) {
		return false
	}
	<-wake
	return true
}

// stopWaiting takes wake off the waiting list and reports whether it was
// still there.
func (s *server) stopWaiting(wake chan struct{}) bool {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	for i, w := range s.waiting {
		if w == wake {
			s.waiting = slices.Delete(s.waiting, i, i+1)
			return true
		}
	}
	return false
}

// waitingReaders returns how many goroutines wait to read again.
func (s *server) waitingReaders() int {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	return len(s.waiting)
}

// inlineLimit is how long a call may run in the goroutine that reads the
// frames before another goroutine takes over the reading, so that the
// tenant's other calls need not wait for it.
const inlineLimit = time.Millisecond

// inlineCall is a call that the reading goroutine runs itself. Handing
// each call to another goroutine cost a switch between goroutines per
// call, about 3% of the sandboxed tier's throughput. A call that waits
// for a host call's reply, which the reading goroutine must read, or that
// runs past inlineLimit hands the reading on once: to a goroutine that
// waits for it in awaitReading, or else to a new one. After the call, its
// own goroutine waits to read again.
type inlineCall struct {
	server *server

	mu       sync.Mutex
	handed   bool
	finished bool
}

// handOff hands the reading to a waiting goroutine or starts a new one,
// unless the call did so already or has finished.
func (ic *inlineCall) handOff() {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.handed || ic.finished {
		return
	}
	ic.handed = true

	s := ic.server
	s.waitMu.Lock()
	if n := len(s.waiting); n > 0 {
		wake := s.waiting[n-1]
		s.waiting = s.waiting[:n-1]
		s.waitMu.Unlock()
		wake <- struct{}{}
		return
	}
	s.waitMu.Unlock()

	s.readersStarted.Add(1)
	go s.read()
}

// finish marks the call finished and reports whether it handed the
// reading on.
func (ic *inlineCall) finish() (handed bool) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.finished = true
	return ic.handed
}

// handOffSlow runs when the slow timer fires and hands the reading on from
// the call that runs at that moment.
func (s *server) handOffSlow() {
	if ic := s.inline.Load(); ic != nil {
		ic.handOff()
	}
}

// runInline runs Call c with id in the reading goroutine, sends its Result,
// and reports whether the call handed the reading on.
func (s *server) runInline(id uint64, c *Call) (handed bool) {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	set := s.sets[c.Set]
	s.calls[id] = cancel
	s.mu.Unlock()

	ic := &inlineCall{server: s}
	s.inline.Store(ic)
	s.slow.Reset(inlineLimit)
	result := s.run(ctx, id, set, c, ic)
	handed = ic.finish()
	if !handed {
		// Once handed on, the timer and the inline mark belong to the
		// goroutine that reads now.
		s.slow.Stop()
		s.inline.CompareAndSwap(ic, nil)
	}
	cancel()

	s.mu.Lock()
	delete(s.calls, id)
	s.mu.Unlock()
	// A failed send means the connection is gone, and the reading
	// goroutine ends the worker.
	_ = s.conn.Send(&Frame{Kind: KindResult, ID: id, Result: result})
	return handed
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
