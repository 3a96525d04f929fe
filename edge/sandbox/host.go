package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// serveHostCall runs one host API call of a worker's hook on the request's
// pluginhost.Host and sends the reply.
func (w *workerConn) serveHostCall(id uint64, hc *worker.HostCall) {
	reply := &worker.HostReply{}
	if err := w.safeHostCall(hc, reply); err != nil {
		reply.Err = err.Error()
	}
	// A failed send means the worker is gone, and readLoop handles that.
	_ = w.conn.Send(&worker.Frame{Kind: worker.KindHostReply, ID: id, HostReply: reply})
}

// safeHostCall is hostCall with a panic turned into the call's error. A
// host call runs on a goroutine of its own, where a panic would end the
// edge process and every tenant's traffic with it.
func (w *workerConn) safeHostCall(hc *worker.HostCall, reply *worker.HostReply) (err error) {
	defer func() {
		if r := recover(); r != nil {
			*reply = worker.HostReply{}
			err = fmt.Errorf("host method %q failed: internal error", hc.Method)
			w.tenant.pool.log.Error("host call panicked", "tenant", w.tenant.name, "method", hc.Method, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	return w.hostCall(hc, reply)
}

func (w *workerConn) hostCall(hc *worker.HostCall, reply *worker.HostReply) error {
	if hc == nil {
		return errors.New("host call frame without a host call")
	}
	pc := w.lookup(hc.Call)
	if pc == nil || pc.set == nil {
		return fmt.Errorf("call %d is not in flight", hc.Call)
	}
	host := pc.host
	if host == nil {
		return fmt.Errorf("%s is not available: the host provides no services here", hc.Method)
	}

	ctx := pc.ctx
	if hc.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hc.Timeout)
		defer cancel()
	}

	switch hc.Method {
	case worker.MethodKVGet:
		reply.Value, reply.Found = host.KVGet(hc.Key)
	case worker.MethodKVSet:
		return host.KVSet(hc.Key, hc.Value, hc.TTL)
	case worker.MethodKVDelete:
		host.KVDelete(hc.Key)
	case worker.MethodKVIncr:
		value, err := host.KVIncr(hc.Key, hc.By, hc.TTL)
		reply.Int = value
		return err
	case worker.MethodLimit:
		result, err := host.Limit(ctx, hc.Backend, hc.Key, hc.Limit, hc.Window)
		reply.Limit = result
		return err
	case worker.MethodFetch:
		return w.fetch(ctx, pc, hc, reply)
	case worker.MethodReadBody:
		body, err := host.ReadBody(int(min(hc.Limit, pluginhost.MaxRequestBody)))
		reply.Body = body
		return err
	default:
		return fmt.Errorf("host method %q is unknown", hc.Method)
	}
	return nil
}

// serveLog writes the log line of a worker's hook in call pc. A log host
// call gets no reply, so a failure is logged here, and a panic, which would
// end the edge process, is recovered.
func (w *workerConn) serveLog(pc *pendingCall, hc *worker.HostCall) {
	defer func() {
		if r := recover(); r != nil {
			w.tenant.pool.log.Error("host call panicked", "tenant", w.tenant.name, "method", hc.Method, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if pc.set == nil || pc.host == nil {
		return
	}

	caller, err := pc.set.caller(hc.Binding, pc.requestID)
	if err != nil {
		w.tenant.pool.log.Warn("dropped the log line of a sandboxed hook", "tenant", w.tenant.name, "binding", hc.Binding, "request_id", pc.requestID, "error", err)
		return
	}
	pc.host.Log(caller, slog.Level(hc.Level), hc.Message, hc.Fields)
}

// fetch sends a hook's outbound request with the permissions of the
// binding as the edge loaded it.
func (w *workerConn) fetch(ctx context.Context, pc *pendingCall, hc *worker.HostCall, reply *worker.HostReply) error {
	if hc.Request == nil {
		return errors.New("http host call without a request")
	}
	caller, err := pc.set.caller(hc.Binding, pc.requestID)
	if err != nil {
		return err
	}
	resp, err := pc.host.Fetch(ctx, caller, *hc.Request)
	if err != nil {
		return err
	}
	reply.Response = &resp
	return nil
}
