package pluginhost_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// apiKeySource is the worked example of docs/plugins.md.
const apiKeySource = `
// api-key: rejects requests without a known API key, then tags the request
// for the upstream and the response for the client.
func access(ctx, conf) {
  key := ctx.req.header("X-Api-Key")
  if key == "" {
    ctx.exit(401, "missing API key")
  }
  if !(key in conf["api_keys"]) {
    ctx.exit(403, "unknown API key")
  }
  ctx.req.del_header("X-Api-Key")
  ctx.req.set_header(conf["header"], conf["value"])
}

func header_filter(ctx, conf) {
  ctx.resp.set_header("X-Served-By", "portcullis")
}
`

// Example compiles the API key plugin of docs/plugins.md, binds it and runs
// its hooks the way the edge does.
func Example() {
	plugin, err := pluginhost.Compile("api-key", "1.0.0", apiKeySource)
	if err != nil {
		fmt.Println(err)
		return
	}
	config := json.RawMessage(`{"api_keys": ["k-123"], "header": "X-Team", "value": "payments"}`)
	instance, err := plugin.Bind(config)
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, key := range []string{"", "k-999", "k-123"} {
		ex := &pluginhost.Exchange{Request: pluginhost.Request{
			Method: http.MethodGet, Host: "acme.example", Path: "/orders",
			Header: http.Header{},
		}}
		if key != "" {
			ex.Request.Header.Set("X-Api-Key", key)
		}

		if err := instance.Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
			fmt.Println(err)
			return
		}
		if ex.Exit != nil {
			fmt.Printf("key %q: exit %d %q\n", key, ex.Exit.Status, ex.Exit.Body)
			continue
		}

		ex.Response.Status = http.StatusOK
		if err := instance.Run(context.Background(), pluginhost.PhaseHeaderFilter, ex); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("key %q: X-Team=%s X-Api-Key=%q X-Served-By=%s\n", key,
			ex.Request.Header.Get("X-Team"), ex.Request.Header.Get("X-Api-Key"),
			ex.Response.Header.Get("X-Served-By"))
	}

	// Output:
	// key "": exit 401 "missing API key"
	// key "k-999": exit 403 "unknown API key"
	// key "k-123": X-Team=payments X-Api-Key="" X-Served-By=portcullis
}
