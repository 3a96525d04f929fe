package demo

// PluginName and PluginVersion name the plugin that the demo publishes.
const (
	PluginName    = "hello"
	PluginVersion = "1.0.0"
)

// PluginSource is the Risor source of the demo plugin. It adds a greeting
// header to the upstream request and to the response, and rejects requests
// to /blocked.
const PluginSource = `// hello: greets every request and blocks one path.
func rewrite(ctx, conf) {
    ctx.req.set_header("X-Greeting", conf["greeting"])
}

func access(ctx, conf) {
    if ctx.req.path == "/blocked" {
        ctx.exit(403, "blocked by the hello plugin\n")
    }
}

func header_filter(ctx, conf) {
    ctx.resp.set_header("X-Hello", conf["greeting"])
}
`

// PluginSchema is the JSON Schema of the demo plugin's config.
const PluginSchema = `{
  "type": "object",
  "properties": {"greeting": {"type": "string", "minLength": 1}},
  "required": ["greeting"],
  "additionalProperties": false
}`
