package i18n

// configFormats translates the formats of the field errors that
// portcullis.dev/tenants/config reports when it validates a resource.
var configFormats = map[string]string{
	// Tenants, names and versions.
	"%q is not a valid slug: use 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit": "%q 不是有效的标识：请使用 1 到 63 个小写字母、数字和连字符，并以字母或数字开头和结尾",
	"%q is not a valid name: use 1 to 63 letters, digits, dots, underscores and hyphens, starting with a letter or digit":   "%q 不是有效的名称：请使用 1 到 63 个字母、数字、点、下划线和连字符，并以字母或数字开头",
	"%q is not a semantic version: use MAJOR.MINOR.PATCH such as \"1.0.0\"":                                                 "%q 不是语义化版本号：请使用 MAJOR.MINOR.PATCH 格式，例如 \"1.0.0\"",
	"%s is missing or blank: give 1 to %d characters":                                                                       "%s 缺失或为空：请填写 1 到 %d 个字符",
	"%s is not valid UTF-8: send it as UTF-8 text":                                                                          "%s 不是有效的 UTF-8：请以 UTF-8 文本发送",
	"%s contains a control character: remove it":                                                                            "%s 包含控制字符：请删除它",
	"%s is %d characters long: use at most %d":                                                                              "%s 长 %d 个字符：最多使用 %d 个",

	// Consumers.
	"description is not valid UTF-8: send it as UTF-8 text": "description 不是有效的 UTF-8：请以 UTF-8 文本发送",
	"description contains a control character: remove it":   "description 包含控制字符：请删除它",
	"description is %d characters long: use at most %d":     "description 长 %d 个字符：最多使用 %d 个",
	"a consumer has at most %d tags, got %d":                "一个消费者最多有 %d 个标签，收到 %d 个",
	"tag %q appears twice: list each tag once":              "标签 %q 出现了两次：每个标签只列一次",

	// Routes.
	"a route needs 1 to %d paths, got %d":          "路由需要 1 到 %d 个路径，收到 %d 个",
	"%q is listed twice: list each path once":      "%q 列出了两次：每个路径只列一次",
	"%q is listed twice: list each method once":    "%q 列出了两次：每个方法只列一次",
	"%q is listed twice: list each host once":      "%q 列出了两次：每个主机只列一次",
	"%q is listed twice: put one matcher per name": "%q 列出了两次：每个名称只放一个匹配器",
	"%q is not a valid path: start with \"/\" (or \"=/\" for an exact path), use at most %d characters and no query, fragment, spaces, backslashes or control characters": "%q 不是有效的路径：请以 \"/\" 开头（精确路径用 \"=/\"），最多 %d 个字符，且不含查询串、片段、空格、反斜杠或控制字符",
	"%q contains percent-encoding: write the path decoded, as requests are matched after decoding":                                                                        "%q 包含百分号编码：请写解码后的路径，因为请求在解码后才匹配",
	"%q contains \".\", \"..\" or empty segments: write the cleaned path, as requests are matched after cleaning":                                                         "%q 包含 \".\"、\"..\" 或空段：请写规范化后的路径，因为请求在规范化后才匹配",
	"%q mixes the exact marker \"=\" with braces: an exact path takes no parameters, so drop the \"=\" for a pattern such as \"/users/{id}\"":                             "%q 同时使用了精确标记 \"=\" 和花括号：精确路径不接受参数，如需 \"/users/{id}\" 这样的模式，请去掉 \"=\"",
	"%q is not a valid pattern: segment %q is not a parameter: write {name} or {name...} as a whole segment, with a name of 1 to 32 letters, digits and underscores":      "%q 不是有效的模式：片段 %q 不是参数：请把 {name} 或 {name...} 写成一个完整片段，name 为 1 到 32 个字母、数字或下划线",
	"%q is not a valid pattern: catch-all %q is not the last segment: move it to the end":                                                                                 "%q 不是有效的模式：通配参数 %q 不是最后一个片段：请把它移到末尾",
	"%q is not a valid pattern: parameter %q appears twice: give each parameter its own name":                                                                             "%q 不是有效的模式：参数 %q 出现了两次：请给每个参数取不同的名字",
	"%q is not a valid pattern: %v":                                                                                                         "%q 不是有效的模式：%v",
	"%q is not an HTTP method: use upper-case names such as \"GET\" or \"POST\"":                                                            "%q 不是 HTTP 方法：请使用大写名称，例如 \"GET\" 或 \"POST\"",
	"priority %d is out of range: use %d to %d, where higher wins":                                                                          "priority %d 超出范围：请使用 %d 到 %d，值越大越优先",
	"max_body_bytes %d is out of range: use 1 to %d, or 0 for the default of %d":                                                            "max_body_bytes %d 超出范围：请使用 1 到 %d，或用 0 表示默认值 %d",
	"hosts has %d entries, above the limit of %d":                                                                                           "hosts 有 %d 项，超过上限 %d",
	"%q is not a host name: use a name such as \"api.acme.example\" or a wildcard such as \"*.acme.example\", without scheme, port or path": "%q 不是主机名：请使用 \"api.acme.example\" 这样的名称或 \"*.acme.example\" 这样的通配符，不带协议、端口或路径",
	"%s has %d entries, above the limit of %d":                                                                                              "%s 有 %d 项，超过上限 %d",
	"name is missing: give the header or query argument to match":                                                                           "name 缺失：请给出要匹配的请求头或查询参数",
	"name is %d bytes long: use at most %d":                                                                                                 "name 长 %d 字节：最多使用 %d 字节",
	"%q is not a header name: use letters, digits and -, such as \"X-Env\"":                                                                 "%q 不是请求头名称：请使用字母、数字和 -，例如 \"X-Env\"",
	"%q contains invalid UTF-8 or a control character: remove it":                                                                           "%q 包含无效的 UTF-8 或控制字符：请删除它",
	"value is %d bytes long: use at most %d":                                                                                                "value 长 %d 字节：最多使用 %d 字节",
	"value %q contains invalid UTF-8 or a control character: remove it":                                                                     "value %q 包含无效的 UTF-8 或控制字符：请删除它",

	// Bindings.
	"a binding applies to one route or to one consumer, not both: leave route or consumer empty": "绑定只能作用于一个路由或一个消费者，不能同时作用于两者：请把 route 或 consumer 留空",
	"config is %d bytes, above the limit of %d":                                                  "config 有 %d 字节，超过上限 %d",
	"config must be a JSON object such as {\"header\": \"X-Hello\"}":                             "config 必须是 JSON 对象，例如 {\"header\": \"X-Hello\"}",
	"priority %d is out of range: use %d to %d":                                                  "priority %d 超出范围：请使用 %d 到 %d",
	"timeout_ms %d is out of range: use 1 to %d, or 0 for the default of %d":                     "timeout_ms %d 超出范围：请使用 1 到 %d，或用 0 表示默认值 %d",
	"on_error %q is invalid: use %q to skip a failing plugin or %q to end the request with 500":  "on_error %q 无效：用 %q 跳过失败的插件，或用 %q 以 500 结束请求",
	"tier %q is invalid: use %q to run the plugin in a worker process, %q (operator only) to run it inside the edge, or leave it empty to follow the version's reviewed flag": "tier %q 无效：用 %q 在工作进程中运行插件，用 %q（仅限运维人员）在边缘节点内运行，或留空以遵循该版本的审核标记",
	"allow_hosts has %d entries, above the limit of %d": "allow_hosts 有 %d 项，超过上限 %d",
	"%q is not a host: use a name or address with an optional port, such as \"api.example.com\", \"203.0.113.7:8443\" or \"[2001:db8::7]:8443\", without a scheme": "%q 不是主机：请使用名称或地址，可带端口，例如 \"api.example.com\"、\"203.0.113.7:8443\" 或 \"[2001:db8::7]:8443\"，不带协议",

	// Upstreams.
	"an upstream needs 1 to %d targets, got %d":                                                                       "上游需要 1 到 %d 个目标，收到 %d 个",
	"%q is listed twice: list each target once and raise its weight instead":                                          "%q 列出了两次：每个目标只列一次，需要时调高它的权重",
	"retries %d is out of range: use 0 to %d, or leave it out for the default of %d":                                  "retries %d 超出范围：请使用 0 到 %d，或省略以使用默认值 %d",
	"%q is not a valid target: use an absolute http:// or https:// URL such as \"https://api.example.com:8443\"":      "%q 不是有效的目标：请使用以 http:// 或 https:// 开头的绝对 URL，例如 \"https://api.example.com:8443\"",
	"%q must not carry a query, fragment or user info":                                                                "%q 不能带查询串、片段或用户信息",
	"%q has port %q: use a port from 1 to 65535":                                                                      "%q 的端口是 %q：请使用 1 到 65535 之间的端口",
	"weight %d is out of range: use 0 to 1000 (0 means 1)":                                                            "weight %d 超出范围：请使用 0 到 1000（0 表示 1）",
	"hash_on and hash_key apply only to balance %q: remove them or set balance to %q":                                 "hash_on 和 hash_key 只适用于 balance %q：请删除它们，或把 balance 设为 %q",
	"balance %q is invalid: use %q, %q or %q":                                                                         "balance %q 无效：请使用 %q、%q 或 %q",
	"hash_key %q is not used with hash_on %q: remove it, or hash on %q or %q":                                         "hash_on 为 %[2]q 时不使用 hash_key %[1]q：请删除它，或按 %[3]q 或 %[4]q 哈希",
	"hash_on %q is invalid: use %q, %q or %q":                                                                         "hash_on %q 无效：请使用 %q、%q 或 %q",
	"hash_key %q is not a valid %s name: give 1 to %d letters, digits or one of !#$%%&'*+-.^_`|~, such as \"X-User\"": "hash_key %q 不是有效的 %s 名称：请使用 1 到 %d 个字母、数字或 !#$%%&'*+-.^_`|~ 中的字符，例如 \"X-User\"",
	"protocol %q is invalid: use %q, %q, %q or %q":                                                                    "protocol %q 无效：请使用 %q、%q、%q 或 %q",
	"%q does not fit protocol %q: use a %s:// URL, or another protocol":                                               "%q 与 protocol %q 不符：请使用 %s:// URL，或换一个协议",

	// Upstream health checks.
	"%q is not a valid check path: use an absolute path such as \"/healthz\", with at most %d characters, an optional query and no host": "%q 不是有效的检查路径：请使用 \"/healthz\" 这样的绝对路径，最多 %d 个字符，可带查询串，不带主机",
	"timeout %s is not below the interval %s: lower timeout_ms or raise interval_ms":                                                     "超时 %s 不小于间隔 %s：请调低 timeout_ms 或调高 interval_ms",
	"healthy_threshold %d is out of range: use 1 to %d, or 0 for the default of %d":                                                      "healthy_threshold %d 超出范围：请使用 1 到 %d，或用 0 表示默认值 %d",
	"unhealthy_threshold %d is out of range: use 1 to %d, or 0 for the default of %d":                                                    "unhealthy_threshold %d 超出范围：请使用 1 到 %d，或用 0 表示默认值 %d",
	"expected_statuses has %d entries, above the limit of %d":                                                                            "expected_statuses 有 %d 项，超过上限 %d",
	"%d is not an HTTP status: use 100 to 599":                                                                                           "%d 不是 HTTP 状态码：请使用 100 到 599",
	"max_failures %d is out of range: use 1 to %d, or 0 for the default of %d":                                                           "max_failures %d 超出范围：请使用 1 到 %d，或用 0 表示默认值 %d",
	"%s %d is out of range: use %d to %d, or 0 for the default of %d":                                                                    "%s %d 超出范围：请使用 %d 到 %d，或用 0 表示默认值 %d",

	// Upstream TLS.
	"ca_pem contains no PEM certificate: paste one or more \"-----BEGIN CERTIFICATE-----\" blocks":                               "ca_pem 不含 PEM 证书：请粘贴一个或多个 \"-----BEGIN CERTIFICATE-----\" 块",
	"client_cert_pem and client_key_pem do not form a key pair (%v): paste the PEM certificate and its matching PEM private key": "client_cert_pem 和 client_key_pem 不构成密钥对（%v）：请粘贴 PEM 证书及与之匹配的 PEM 私钥",
	"%s is %d bytes, above the limit of %d":                                                    "%s 有 %d 字节，超过上限 %d",
	"%q is not a host name: use a DNS name such as \"api.internal\", without a scheme or port": "%q 不是主机名：请使用 \"api.internal\" 这样的 DNS 名称，不带协议或端口",
	"client_key_pem is missing: a client certificate needs its PEM private key":                "client_key_pem 缺失：客户端证书需要对应的 PEM 私钥",
	"client_cert_pem is missing: a client key needs its PEM certificate":                       "client_cert_pem 缺失：客户端密钥需要对应的 PEM 证书",
	"client_key_pem is not PEM: paste a \"-----BEGIN PRIVATE KEY-----\" block":                 "client_key_pem 不是 PEM：请粘贴一个 \"-----BEGIN PRIVATE KEY-----\" 块",

	// Custom domains and HSTS.
	"max_age %d is out of range: use 0 to %d seconds":                                                             "max_age %d 超出范围：请使用 0 到 %d 秒",
	"preload needs include_subdomains true and a max_age of at least %d seconds (one year)":                       "preload 需要 include_subdomains 为 true，且 max_age 至少 %d 秒（一年）",
	"hostname is empty: use a DNS name such as api.example.com":                                                   "hostname 为空：请使用 api.example.com 这样的 DNS 名称",
	"hostname is %d characters, above the limit of %d":                                                            "hostname 有 %d 个字符，超过上限 %d",
	"%q is an IP address: use a DNS name such as api.example.com":                                                 "%q 是 IP 地址：请使用 api.example.com 这样的 DNS 名称",
	"%q is a wildcard, which custom domains do not support: add each hostname on its own":                         "%q 是通配符，自定义域名不支持通配符：请逐个添加主机名",
	"%q has one label: use a fully qualified name such as api.example.com":                                        "%q 只有一个标签：请使用 api.example.com 这样的完全限定域名",
	"%q ends in a numeric label, which no top-level domain has: use a DNS name such as api.example.com":           "%q 以纯数字标签结尾，而没有顶级域名是纯数字：请使用 api.example.com 这样的 DNS 名称",
	"%q has an empty label: remove the repeated or leading dot":                                                   "%q 含有空标签：请删除重复的点或开头的点",
	"%q has a label of %d characters, above the limit of %d":                                                      "%q 有一个标签长 %d 个字符，超过上限 %d",
	"%q has a label that starts or ends with a hyphen":                                                            "%q 有一个标签以连字符开头或结尾",
	"%q contains %q: use letters, digits, hyphens and dots only, with internationalized names in their xn-- form": "%q 包含 %q：只能使用字母、数字、连字符和点，国际化域名请写成 xn-- 形式",
}
