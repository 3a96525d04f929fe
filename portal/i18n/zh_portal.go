package i18n

// portalFormats translates the formats of the field errors that the REST
// API, the declarative config and the web console report themselves.
var portalFormats = map[string]string{
	// REST API.
	"a binding's plugin cannot change: create a new binding for the other plugin":                                     "绑定的插件不能更改：请为另一个插件新建绑定",
	"dry_run %q is not a boolean: use true or false":                                                                  "dry_run %q 不是布尔值：请使用 true 或 false",
	"the value is %q, the placeholder of an export read by a viewer: put the real value in, or export as a developer": "该值是 %q，即查看者导出时使用的占位符：请填入真实值，或以开发者身份导出",

	// Declarative config.
	"binding %q does not exist: remove the id to create a new binding":                             "绑定 %q 不存在：请删除 id 以新建绑定",
	"binding %q is listed twice: list each binding once":                                           "绑定 %q 列出了两次：每个绑定只列一次",
	"binding %q runs plugin %q, not %q: remove the id to replace it with a new binding":            "绑定 %q 运行的是插件 %q，而不是 %q：请删除 id，用新绑定替换它",
	`tier "trusted" is for the operator only: leave tier empty or use "sandboxed"`:                 `tier "trusted" 仅限运维人员使用：请把 tier 留空或使用 "sandboxed"`,
	"the document is for tenant %q, not %q: apply it to its own tenant or change its tenant field": "该文档属于租户 %q，而不是 %q：请把它应用到所属租户，或修改它的 tenant 字段",
	"%s has %d items, above the limit of %d: split the tenant's config or raise the limit":         "%s 有 %d 项，超过上限 %d：请拆分该租户的配置或提高上限",
	"name %q is also used by %s[%d]: give each a unique name":                                      "名称 %q 也被 %s[%d] 使用：请为每一项取唯一的名称",

	// Web console forms.
	"%q is not one of %s":  "%q 不是以下值之一：%s",
	"not valid JSON: %v":   "不是有效的 JSON：%v",
	"%q is not an integer": "%q 不是整数",
	"%q is not a number":   "%q 不是数字",
	"line %q is not a name and a value: write one pair a line, such as X-Frame-Options: DENY":             "行 %q 不是名称和值：请每行写一对，例如 X-Frame-Options: DENY",
	"name must be 1 to %d bytes after trimming spaces: enter the name to show to other members":           "去掉首尾空格后，名称必须是 1 到 %d 字节：请输入向其他成员显示的名称",
	"line %q is not a URL and an integer weight: write one target a line, such as http://10.0.0.5:8080 1": "行 %q 不是 URL 加整数权重：请每行写一个目标，例如 http://10.0.0.5:8080 1",

	// Fixed messages of the REST API's own request checks. They carry no
	// values, so the whole message is the key.
	"after must be a non-negative integer: pass the next_after of the previous page":            "after 必须是非负整数：请传入上一页的 next_after",
	"duplicate field: send each field once":                                                     "字段重复：每个字段只发送一次",
	"header name is empty or contains a space, a colon or a line break":                         "请求头名称为空，或包含空格、冒号或换行",
	"node_id must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit": "node_id 必须是 1 到 63 个字母、数字、'.'、'_' 或 '-'，并以字母或数字开头",
	"region must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit":  "region 必须是 1 到 63 个字母、数字、'.'、'_' 或 '-'，并以字母或数字开头",
	"position must not be negative":                                                             "position 不能为负数",
	"query is the raw query string without the leading \"?\"":                                   "query 是不带开头 \"?\" 的原始查询串",
	"set the header to application/json":                                                        "请把该请求头设为 application/json",
	"unknown field: field names are case-sensitive, so check the spelling":                      "未知字段：字段名区分大小写，请检查拼写",
	"unknown field: remove it or correct its name":                                              "未知字段：请删除它或更正其名称",
}
