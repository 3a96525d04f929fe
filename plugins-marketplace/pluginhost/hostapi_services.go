package pluginhost

import (
	"io"
	"net/http"
	"time"

	"github.com/risor-io/risor/object"
)

// seconds converts a ttl or window argument in seconds.
func seconds(name string, args []object.Object, i int) (time.Duration, *object.Error) {
	if len(args) <= i {
		return 0, nil
	}
	value, err := argInt(name, args, i)
	if err != nil {
		return 0, err
	}
	if value < 0 || value > 366*24*3600 {
		return 0, object.Errorf("value error: %s: %d seconds is out of range: use 0 to one year", name, value)
	}
	return time.Duration(value) * time.Second, nil
}

func kvGet(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.kv.get", args, 1, 1); err != nil {
		return err
	}
	key, err := argString("ctx.kv.get", args, 0)
	if err != nil {
		return err
	}
	if host.exchange.Host == nil {
		return errNoHost("ctx.kv.get")
	}

	value, found := host.exchange.Host.KVGet(key)
	if !found {
		return object.Nil
	}
	return fromPlain(value)
}

// kvSet implements ctx.kv.set(key, value, ttl_seconds = 0).
func kvSet(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.kv.set", args, 2, 3); err != nil {
		return err
	}
	key, err := argString("ctx.kv.set", args, 0)
	if err != nil {
		return err
	}
	value, plainErr := toPlain(args[1])
	if plainErr != nil {
		return object.Errorf("value error: ctx.kv.set: %v", plainErr)
	}
	ttl, err := seconds("ctx.kv.set", args, 2)
	if err != nil {
		return err
	}
	if host.exchange.Host == nil {
		return errNoHost("ctx.kv.set")
	}

	if setErr := host.exchange.Host.KVSet(key, value, ttl); setErr != nil {
		return object.Errorf("value error: ctx.kv.set: %v", setErr)
	}
	return object.Nil
}

func kvDelete(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.kv.delete", args, 1, 1); err != nil {
		return err
	}
	key, err := argString("ctx.kv.delete", args, 0)
	if err != nil {
		return err
	}
	if host.exchange.Host == nil {
		return errNoHost("ctx.kv.delete")
	}
	host.exchange.Host.KVDelete(key)
	return object.Nil
}

// kvIncr implements ctx.kv.incr(key, by = 1, ttl_seconds = 0).
func kvIncr(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.kv.incr", args, 1, 3); err != nil {
		return err
	}
	key, err := argString("ctx.kv.incr", args, 0)
	if err != nil {
		return err
	}
	by := int64(1)
	if len(args) > 1 {
		if by, err = argInt("ctx.kv.incr", args, 1); err != nil {
			return err
		}
	}
	ttl, err := seconds("ctx.kv.incr", args, 2)
	if err != nil {
		return err
	}
	if host.exchange.Host == nil {
		return errNoHost("ctx.kv.incr")
	}

	value, incrErr := host.exchange.Host.KVIncr(key, by, ttl)
	if incrErr != nil {
		return object.Errorf("value error: ctx.kv.incr: %v", incrErr)
	}
	return object.NewInt(value)
}

// limitFunc implements ctx.limit.local(key, limit, window_seconds) and
// ctx.limit.redis, which return {allowed, limit, remaining, reset}.
func limitFunc(backend string) func(*hostObjects, []object.Object) object.Object {
	name := "ctx.limit." + backend
	return func(host *hostObjects, args []object.Object) object.Object {
		if err := argCount(name, args, 3, 3); err != nil {
			return err
		}
		key, err := argString(name, args, 0)
		if err != nil {
			return err
		}
		limit, err := argInt(name, args, 1)
		if err != nil {
			return err
		}
		window, err := seconds(name, args, 2)
		if err != nil {
			return err
		}
		if limit < 1 || window < time.Second {
			return object.Errorf("value error: %s: limit and window must be at least 1, got %d and %s", name, limit, window)
		}
		if host.exchange.Host == nil {
			return errNoHost(name)
		}

		result, limitErr := host.exchange.Host.Limit(host.serviceContext(), backend, key, limit, window)
		if limitErr != nil {
			return object.Errorf("io error: %s: %v", name, limitErr)
		}
		return object.NewMap(map[string]object.Object{
			"allowed":   object.NewBool(result.Allowed),
			"limit":     object.NewInt(result.Limit),
			"remaining": object.NewInt(result.Remaining),
			"reset":     object.NewInt(int64((result.Reset + time.Second - 1) / time.Second)),
		})
	}
}

// httpGet implements ctx.http.get(url, options = {}).
func httpGet(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.http.get", args, 1, 2); err != nil {
		return err
	}
	return httpRequest(host, append([]object.Object{object.NewString(http.MethodGet)}, args...))
}

// httpRequest implements ctx.http.request(method, url, options = {}), with
// options headers (a map of strings), body (a string) and timeout_ms. It
// returns {status, headers, body}, where headers holds each header's first
// value under its lower-case name.
func httpRequest(host *hostObjects, args []object.Object) object.Object {
	if err := argCount("ctx.http.request", args, 2, 3); err != nil {
		return err
	}
	method, err := argString("ctx.http.request", args, 0)
	if err != nil {
		return err
	}
	target, err := argString("ctx.http.request", args, 1)
	if err != nil {
		return err
	}
	req := OutboundRequest{Method: method, URL: target, Header: http.Header{}, Timeout: time.Second}
	if len(args) == 3 {
		if optErr := readFetchOptions(args[2], &req); optErr != nil {
			return optErr
		}
	}
	if host.exchange.Host == nil {
		return errNoHost("ctx.http.request")
	}

	resp, fetchErr := host.exchange.Host.Fetch(host.serviceContext(), host.caller(), req)
	if fetchErr != nil {
		return object.Errorf("io error: ctx.http.request: %v", fetchErr)
	}
	headers := make(map[string]object.Object, len(resp.Header))
	for name := range resp.Header {
		headers[lower(name)] = object.NewString(resp.Header.Get(name))
	}
	return object.NewMap(map[string]object.Object{
		"status":  object.NewInt(int64(resp.Status)),
		"headers": object.NewMap(headers),
		"body":    object.NewString(string(resp.Body)),
	})
}

func readFetchOptions(value object.Object, req *OutboundRequest) *object.Error {
	plain, err := toPlain(value)
	options, isMap := plain.(map[string]any)
	if err != nil || !isMap {
		return object.TypeErrorf("type error: ctx.http.request: options must be a map")
	}

	if headers, ok := options["headers"].(map[string]any); ok {
		for name, v := range headers {
			text, isString := v.(string)
			if !isString || !validHeaderName(name) || !validHeaderValue(text) {
				return object.Errorf("value error: ctx.http.request: invalid header %q", name)
			}
			req.Header.Set(name, text)
		}
	}
	if body, ok := options["body"].(string); ok {
		if len(body) > MaxFetchRequestBody {
			return object.Errorf("value error: ctx.http.request: body of %d bytes is above the limit of %d bytes (1 MiB)", len(body), MaxFetchRequestBody)
		}
		req.Body = []byte(body)
	}
	if timeout, ok := options["timeout_ms"].(int64); ok {
		req.Timeout = time.Duration(timeout) * time.Millisecond
	}
	if req.Timeout <= 0 || req.Timeout > MaxFetchTimeout {
		return object.Errorf("value error: ctx.http.request: timeout_ms must be 1 to %d", MaxFetchTimeout.Milliseconds())
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// ReadLimited reads at most limit bytes of r and reports whether more
// followed. Hosts use it to bound bodies.
func ReadLimited(r io.Reader, limit int) ([]byte, bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if len(data) > limit {
		return data[:limit], true, err
	}
	return data, false, err
}
