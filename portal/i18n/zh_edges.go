package i18n

// edgeFormats translates the formats of the field errors in an edge's
// heartbeat report that portcullis.dev/portal/store checks.
var edgeFormats = map[string]string{
	"rejected has %d entries, above the limit of %d":                                "rejected 有 %d 项，超过上限 %d",
	"tenant %q is invalid: use a tenant slug of 1 to 63 characters":                 "租户 %q 无效：请使用 1 到 63 个字符的租户标识",
	"revision %d of tenant %q is invalid: use a positive revision":                  "租户 %[2]q 的修订版本 %[1]d 无效：请使用正数修订版本",
	"reason of tenant %q is invalid: use valid UTF-8 of at most %d characters":      "租户 %q 的原因无效：请使用不超过 %d 个字符的有效 UTF-8 文本",
	"reason of tenant %q contains a line break or control character: send one line": "租户 %q 的原因包含换行符或控制字符：请只发送一行",
	"instance must be at most %d letters, digits, '_' or '-'":                       "instance 最多只能包含 %d 个字母、数字、'_' 或 '-'",
}
