package i18n

import (
	"strings"

	"golang.org/x/text/message"
)

// portalFormats translates the formats of the field errors that the REST
// API, the declarative config and the web console report themselves.
var portalFormats = map[string]string{
	// REST API.
	"a binding's plugin cannot change: create a new binding for the other plugin":                                     "绑定的插件不能更改：请为另一个插件新建绑定",
	"dry_run %q is not a boolean: use true or false":                                                                  "dry_run %q 不是布尔值：请使用 true 或 false",
	"the value is %q, the placeholder of an export read by a viewer: put the real value in, or export as a developer": "该值是 %q，即查看者导出时使用的占位符：请填入真实值，或以开发者身份导出",
	"%q is not an HTTP method: use upper-case names such as \"GET\"":                                                  "%q 不是 HTTP 方法：请使用大写名称，例如 \"GET\"",
	"path must start with \"/\" and have at most %d bytes":                                                            "path 必须以 \"/\" 开头，且最多 %d 字节",
	"headers has %d entries, above the limit of %d":                                                                   "headers 有 %d 项，超过上限 %d",
	"limit %q is not an integer from 1 to %d: send a page size in that range":                                         "limit %q 不是 1 到 %d 之间的整数：请发送该范围内的每页条数",
	"page %q is not an integer from 1 to %d: send a page number in that range":                                        "page %q 不是 1 到 %d 之间的整数：请发送该范围内的页码",
	"name filter is %d bytes long: use at most %d":                                                                    "name 筛选条件长 %d 字节：最多使用 %d 字节",
	"tag filter is %d bytes long: use at most %d":                                                                     "tag 筛选条件长 %d 字节：最多使用 %d 字节",
	"plugin filter is %d bytes long: use at most %d":                                                                  "plugin 筛选条件长 %d 字节：最多使用 %d 字节",
	"route filter is %d bytes long: use at most %d":                                                                   "route 筛选条件长 %d 字节：最多使用 %d 字节",
	"consumer filter is %d bytes long: use at most %d":                                                                "consumer 筛选条件长 %d 字节：最多使用 %d 字节",
	"Last-Event-ID %q is not a feed position: send the id of the last event you applied":                              "Last-Event-ID %q 不是变更流中的位置：请发送你最后应用的事件的 id",
	"%s %q is not a non-negative integer":                                                                             "%s %q 不是非负整数",
	"wait %q must be a duration from 0s to %s, such as 25s":                                                           "wait %q 必须是 0s 到 %s 之间的时长，例如 25s",
	"name must be 1 to %d bytes after trimming spaces: send the name to show to other members":                        "去掉首尾空格后，名称必须是 1 到 %d 字节：请发送向其他成员显示的名称",
	"name must be 1 to %d bytes after trimming spaces: say where the token is used, such as \"ci\"":                   "去掉首尾空格后，名称必须是 1 到 %d 字节：请说明令牌在哪里使用，例如 \"ci\"",
	"expires_in_days is %d: send 1 to %d, or 0 for a token that does not expire":                                      "expires_in_days 为 %d：请发送 1 到 %d，或发送 0 表示令牌永不过期",
	"wrong type: got a JSON %s, want %s":                                                                              "类型错误：收到的是 JSON %s，应为%s",

	// Accounts: sign-up, basic-auth passwords and member roles.
	"email is missing: send the address to sign in with":                         "缺少电子邮箱：请发送用于登录的地址",
	"email is %d bytes, above the maximum of %d":                                 "电子邮箱有 %d 字节，超过上限 %d",
	"email %q is not a plain address: send one such as name@example.com":         "电子邮箱 %q 不是纯地址：请发送形如 name@example.com 的地址",
	"password is %d bytes, below the minimum of %d: choose a longer passphrase":  "密码只有 %d 字节，低于下限 %d：请选择更长的密码短语",
	"password is %d bytes, above the maximum of %d: choose a shorter passphrase": "密码有 %d 字节，超过上限 %d：请选择更短的密码短语",
	"password is not valid UTF-8: send it as UTF-8 text":                         "密码不是有效的 UTF-8：请以 UTF-8 文本发送",
	"password is only whitespace: choose a passphrase with visible characters":   "密码只含空白字符：请选择含可见字符的密码短语",
	"role %q is unknown: use owner, admin, developer or viewer":                  "未知角色 %q：请使用 owner（所有者）、admin（管理员）、developer（开发者）或 viewer（查看者）",

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
	"after must be a non-negative integer: pass the next_after of the previous page":                            "after 必须是非负整数：请传入上一页的 next_after",
	"duplicate field: send each field once":                                                                     "字段重复：每个字段只发送一次",
	"header name is empty or contains a space, a colon or a line break":                                         "请求头名称为空，或包含空格、冒号或换行",
	"node_id must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit":                 "node_id 必须是 1 到 63 个字母、数字、'.'、'_' 或 '-'，并以字母或数字开头",
	"node_id %q is reserved for the edge inside the all-in-one process: start this edge with another --node-id": "node_id %q 保留给一体化进程内的边缘节点：请用另一个 --node-id 启动此边缘节点",
	"region must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit":                  "region 必须是 1 到 63 个字母、数字、'.'、'_' 或 '-'，并以字母或数字开头",
	"position must not be negative":                                                                             "position 不能为负数",
	"query is the raw query string without the leading \"?\"":                                                   "query 是不带开头 \"?\" 的原始查询串",
	"set the header to application/json":                                                                        "请把该请求头设为 application/json",
	"unknown field: field names are case-sensitive, so check the spelling":                                      "未知字段：字段名区分大小写，请检查拼写",
	"unknown field: remove it or correct its name":                                                              "未知字段：请删除它或更正其名称",
}

// JSONType is the name of a JSON type as an argument of a field message:
// a name that encoding/json reports, such as "string" or "number 1.5", or
// one with an English article, such as "an integer". It prints as
// written, and Translate renders it with the Chinese word for the type.
type JSONType string

// jsonTypeWords maps the English JSON type names to Chinese words. The
// JSON literal null has no entry, so it stays as written.
var jsonTypeWords = map[string]string{
	"string": "字符串", "a string": "字符串",
	"number": "数字", "a number": "数字",
	"bool": "布尔值", "a boolean": "布尔值",
	"array": "数组", "an array": "数组",
	"object": "对象", "an object": "对象",
	"an integer": "整数",
}

// LocalizedString returns the Chinese name of the type, or the English
// name when jsonTypeWords lacks it. Translate calls it only to render
// Simplified Chinese, so it ignores printer.
func (t JSONType) LocalizedString(*message.Printer) string {
	if literal, found := strings.CutPrefix(string(t), "number "); found {
		return jsonTypeWords["number"] + " " + literal
	}
	if word, found := jsonTypeWords[string(t)]; found {
		return word
	}
	return string(t)
}
