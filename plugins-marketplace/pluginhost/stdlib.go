package pluginhost

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"time"

	"github.com/risor-io/risor/object"
)

// maxJSONText caps the text that json.decode accepts, in bytes.
const maxJSONText = 1 << 20

// stdlibNamespaces returns the stateless namespaces that every plugin sees as
// globals: crypto, json, base64 and time. They hold no state, so all VMs
// share them.
func stdlibNamespaces() map[string]object.Object {
	return map[string]object.Object{
		"crypto": &namespace{name: "crypto", members: map[string]object.Object{
			"sha256":      newFunc("crypto.sha256", digestFunc("crypto.sha256", sha256.New)),
			"sha512":      newFunc("crypto.sha512", digestFunc("crypto.sha512", sha512.New)),
			"hmac_sha256": newFunc("crypto.hmac_sha256", hmacFunc("crypto.hmac_sha256", sha256.New)),
			"hmac_sha512": newFunc("crypto.hmac_sha512", hmacFunc("crypto.hmac_sha512", sha512.New)),
			"equal":       newFunc("crypto.equal", constantTimeEqual),
			"jwt_verify":  newFunc("crypto.jwt_verify", jwtVerify),
		}},
		"json": &namespace{name: "json", members: map[string]object.Object{
			"encode": newFunc("json.encode", jsonEncode),
			"decode": newFunc("json.decode", jsonDecode),
		}},
		"base64": &namespace{name: "base64", members: map[string]object.Object{
			"encode":     newFunc("base64.encode", base64Func("base64.encode", base64.StdEncoding, true)),
			"decode":     newFunc("base64.decode", base64Func("base64.decode", base64.StdEncoding, false)),
			"url_encode": newFunc("base64.url_encode", base64Func("base64.url_encode", base64.RawURLEncoding, true)),
			"url_decode": newFunc("base64.url_decode", base64Func("base64.url_decode", base64.RawURLEncoding, false)),
		}},
		"time": &namespace{name: "time", members: map[string]object.Object{
			"now":     newFunc("time.now", timeNow),
			"unix":    newFunc("time.unix", timeUnix),
			"unix_ms": newFunc("time.unix_ms", timeUnixMilli),
			"rfc3339": newFunc("time.rfc3339", timeRFC3339),
		}},
	}
}

// digestFunc implements crypto.sha256(data) and crypto.sha512(data), which
// return the lowercase hex digest.
func digestFunc(name string, newHash func() hash.Hash) func(context.Context, []object.Object) object.Object {
	return func(_ context.Context, args []object.Object) object.Object {
		if err := argCount(name, args, 1, 1); err != nil {
			return err
		}
		data, err := argString(name, args, 0)
		if err != nil {
			return err
		}

		h := newHash()
		h.Write([]byte(data))
		return object.NewString(hex.EncodeToString(h.Sum(nil)))
	}
}

// hmacFunc implements crypto.hmac_sha256(key, data) and crypto.hmac_sha512,
// which return the lowercase hex MAC.
func hmacFunc(name string, newHash func() hash.Hash) func(context.Context, []object.Object) object.Object {
	return func(_ context.Context, args []object.Object) object.Object {
		if err := argCount(name, args, 2, 2); err != nil {
			return err
		}
		key, err := argString(name, args, 0)
		if err != nil {
			return err
		}
		data, err := argString(name, args, 1)
		if err != nil {
			return err
		}

		mac := hmac.New(newHash, []byte(key))
		mac.Write([]byte(data))
		return object.NewString(hex.EncodeToString(mac.Sum(nil)))
	}
}

// constantTimeEqual implements crypto.equal(a, b): string comparison whose
// time does not depend on where the strings differ.
func constantTimeEqual(_ context.Context, args []object.Object) object.Object {
	if err := argCount("crypto.equal", args, 2, 2); err != nil {
		return err
	}
	a, err := argString("crypto.equal", args, 0)
	if err != nil {
		return err
	}
	b, err := argString("crypto.equal", args, 1)
	if err != nil {
		return err
	}
	return object.NewBool(subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1)
}

func jsonEncode(_ context.Context, args []object.Object) object.Object {
	if err := argCount("json.encode", args, 1, 1); err != nil {
		return err
	}
	plain, err := toPlain(args[0])
	if err != nil {
		return object.Errorf("value error: json.encode: %v", err)
	}

	encoded, err := json.Marshal(plain)
	if err != nil {
		return object.Errorf("value error: json.encode: %v", err)
	}
	return object.NewString(string(encoded))
}

func jsonDecode(_ context.Context, args []object.Object) object.Object {
	if err := argCount("json.decode", args, 1, 1); err != nil {
		return err
	}
	text, err := argString("json.decode", args, 0)
	if err != nil {
		return err
	}
	if len(text) > maxJSONText {
		return object.Errorf("value error: json.decode: text is %d bytes, above the limit of %d", len(text), maxJSONText)
	}

	decoder := json.NewDecoder(bytes.NewReader([]byte(text)))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return object.Errorf("value error: json.decode: invalid JSON: %v", err)
	}
	return jsonToObject(value)
}

// base64Func implements base64.encode and decode in one encoding.
func base64Func(name string, encoding *base64.Encoding, encode bool) func(context.Context, []object.Object) object.Object {
	return func(_ context.Context, args []object.Object) object.Object {
		if err := argCount(name, args, 1, 1); err != nil {
			return err
		}
		text, err := argString(name, args, 0)
		if err != nil {
			return err
		}

		if encode {
			return object.NewString(encoding.EncodeToString([]byte(text)))
		}
		decoded, decodeErr := encoding.DecodeString(text)
		if decodeErr != nil {
			return object.Errorf("value error: %s: invalid input: %v", name, decodeErr)
		}
		return object.NewString(string(decoded))
	}
}

// timeNow implements time.now(): seconds since the Unix epoch as a float.
func timeNow(_ context.Context, args []object.Object) object.Object {
	if err := argCount("time.now", args, 0, 0); err != nil {
		return err
	}
	return object.NewFloat(float64(time.Now().UnixMicro()) / 1e6)
}

func timeUnix(_ context.Context, args []object.Object) object.Object {
	if err := argCount("time.unix", args, 0, 0); err != nil {
		return err
	}
	return object.NewInt(time.Now().Unix())
}

func timeUnixMilli(_ context.Context, args []object.Object) object.Object {
	if err := argCount("time.unix_ms", args, 0, 0); err != nil {
		return err
	}
	return object.NewInt(time.Now().UnixMilli())
}

// timeRFC3339 implements time.rfc3339(seconds): the UTC time as RFC 3339.
func timeRFC3339(_ context.Context, args []object.Object) object.Object {
	if err := argCount("time.rfc3339", args, 1, 1); err != nil {
		return err
	}
	seconds, err := argInt("time.rfc3339", args, 0)
	if err != nil {
		return err
	}
	return object.NewString(time.Unix(seconds, 0).UTC().Format(time.RFC3339))
}
