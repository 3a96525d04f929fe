package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// remoteHost is the pluginhost.Host of one Call in the worker. It forwards
// every method to the edge as a HostCall and, except for Log, waits for
// the HostReply or for the end of the call.
type remoteHost struct {
	server *server
	call   uint64
	ctx    context.Context
	// inline is the call when the reading goroutine runs it, which must
	// hand the reading on before it waits for a reply.
	inline *inlineCall
}

var _ pluginhost.Host = (*remoteHost)(nil)

func (h *remoteHost) KVGet(key string) (any, bool) {
	reply, err := h.do(h.ctx, &HostCall{Method: MethodKVGet, Key: key})
	if err != nil {
		return nil, false
	}
	return reply.Value, reply.Found
}

func (h *remoteHost) KVSet(key string, value any, ttl time.Duration) error {
	_, err := h.do(h.ctx, &HostCall{Method: MethodKVSet, Key: key, Value: value, TTL: ttl})
	return err
}

func (h *remoteHost) KVDelete(key string) {
	_, _ = h.do(h.ctx, &HostCall{Method: MethodKVDelete, Key: key})
}

func (h *remoteHost) KVIncr(key string, by int64, ttl time.Duration) (int64, error) {
	reply, err := h.do(h.ctx, &HostCall{Method: MethodKVIncr, Key: key, By: by, TTL: ttl})
	if err != nil {
		return 0, err
	}
	return reply.Int, nil
}

func (h *remoteHost) Limit(ctx context.Context, backend, key string, limit int64, window time.Duration) (pluginhost.LimitResult, error) {
	reply, err := h.do(ctx, &HostCall{Method: MethodLimit, Backend: backend, Key: key, Limit: limit, Window: window})
	if err != nil {
		return pluginhost.LimitResult{}, err
	}
	return reply.Limit, nil
}

func (h *remoteHost) Fetch(ctx context.Context, caller pluginhost.Caller, req pluginhost.OutboundRequest) (pluginhost.OutboundResponse, error) {
	reply, err := h.do(ctx, &HostCall{Method: MethodFetch, Binding: caller.Binding, Request: &req})
	if err != nil {
		return pluginhost.OutboundResponse{}, err
	}
	if reply.Response == nil {
		return pluginhost.OutboundResponse{}, errors.New("edge returned no response")
	}
	return *reply.Response, nil
}

// Log sends the line without waiting: the edge sends no reply to a log
// host call, so a hook that logs neither waits for a round trip nor hands
// the reading on. It first cuts the line to fit a frame (boundLogLine). A
// failed send means the connection is gone, and the reading goroutine
// ends the worker.
func (h *remoteHost) Log(caller pluginhost.Caller, level slog.Level, message string, fields map[string]any) {
	message, fields = boundLogLine(message, fields)
	hc := &HostCall{Call: h.call, Method: MethodLog, Binding: caller.Binding, Level: int(level), Message: message, Fields: fields}
	_ = h.server.conn.Send(&Frame{Kind: KindHostCall, HostCall: hc})
}

func (h *remoteHost) ReadBody(limit int) ([]byte, error) {
	reply, err := h.do(h.ctx, &HostCall{Method: MethodReadBody, Limit: int64(limit)})
	if err != nil {
		return nil, err
	}
	return reply.Body, nil
}

// do sends hc for the call and waits for its reply until ctx ends.
func (h *remoteHost) do(ctx context.Context, hc *HostCall) (*HostReply, error) {
	hc.Call = h.call
	if deadline, ok := ctx.Deadline(); ok {
		hc.Timeout = max(time.Until(deadline), time.Millisecond)
	}

	if h.inline != nil {
		h.inline.handOff()
	}
	reply, err := h.server.hostCall(ctx, hc)
	if err != nil {
		return nil, err
	}
	if reply.Err != "" {
		return reply, errors.New(reply.Err)
	}
	return reply, nil
}
