package i18n

import (
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// schemaFormats translates the formats of the keyword messages of
// github.com/santhosh-tekuri/jsonschema/v6 (package kind), which render
// through a message.Printer. Keywords and JSON values stay in English.
var schemaFormats = map[string]string{
	"invalid jsonType %T":                       "无效的 JSON 类型 %T",
	"jsonschema validation failed with %s":      "jsonschema 校验失败，位置 %s",
	"validation failed":                         "校验失败",
	"'not' failed":                              "'not' 未通过",
	"'allOf' failed":                            "'allOf' 未通过",
	"'anyOf' failed":                            "'anyOf' 未通过",
	"'oneOf' failed, none matched":              "'oneOf' 未通过，没有子模式匹配",
	"'oneOf' failed, subschemas %d, %d matched": "'oneOf' 未通过，子模式 %d 和 %d 都匹配",
	"false schema":                              "false 模式不接受任何值",
	"both %s and %s resolve to %q causing reference cycle": "%s 和 %s 都解析到 %q，形成循环引用",
	// NOTE: the library joins several wanted types with an English "or",
	// as in "number or string", before it formats this message.
	"got %s, want %s":                       "类型为 %s，应为 %s",
	"value must be %s":                      "值必须是 %s",
	"value must be one of %s":               "值必须是以下之一：%s",
	"'enum' failed":                         "'enum' 未通过",
	"'const' failed":                        "'const' 未通过",
	"%s is not valid %s: %v":                "%s 不是有效的 %s：%v",
	"minProperties: got %d, want %d":        "minProperties：有 %d 个属性，至少需要 %d 个",
	"maxProperties: got %d, want %d":        "maxProperties：有 %d 个属性，最多允许 %d 个",
	"minItems: got %d, want %d":             "minItems：有 %d 项，至少需要 %d 项",
	"maxItems: got %d, want %d":             "maxItems：有 %d 项，最多允许 %d 项",
	"last %d additionalItem(s) not allowed": "不允许最后 %d 个额外的数组项",
	"missing property %s":                   "缺少属性 %s",
	"missing properties %s":                 "缺少属性 %s",
	"properties %s required, if %s exists":  "存在 %[2]s 时，必须提供属性 %[1]s",
	"additional properties %s not allowed":  "不允许额外的属性 %s",
	"invalid propertyName %s":               "无效的属性名 %s",
	"items at %d and %d are equal":          "第 %d 项和第 %d 项相同",
	"no items match contains schema":        "没有数组项匹配 contains 模式",
	"min %d items required to match contains schema, but none matched":           "至少需要 %d 项匹配 contains 模式，但没有任何项匹配",
	"min %d items required to match contains schema, but matched %d items at %v": "至少需要 %d 项匹配 contains 模式，但只有位于 %[3]v 的 %[2]d 项匹配",
	"max %d items required to match contains schema, but matched %d items at %v": "最多允许 %d 项匹配 contains 模式，但位于 %[3]v 的 %[2]d 项都匹配",
	"minLength: got %d, want %d":        "minLength：长度为 %d，至少需要 %d",
	"maxLength: got %d, want %d":        "maxLength：长度为 %d，最多允许 %d",
	"%s does not match pattern %s":      "%s 不匹配模式 %s",
	"value is not %s encoded: %v":       "值不是 %s 编码：%v",
	"value is not of mediatype %s: %v":  "值不是媒体类型 %s：%v",
	"'contentSchema' failed":            "'contentSchema' 未通过",
	"minimum: got %v, want %v":          "minimum：值为 %v，不能小于 %v",
	"maximum: got %v, want %v":          "maximum：值为 %v，不能大于 %v",
	"exclusiveMinimum: got %v, want %v": "exclusiveMinimum：值为 %v，必须大于 %v",
	"exclusiveMaximum: got %v, want %v": "exclusiveMaximum：值为 %v，必须小于 %v",
	"multipleOf: got %v, want %v":       "multipleOf：值为 %v，必须是 %v 的倍数",
}

// chinesePrinter renders jsonschema keyword messages in Simplified Chinese.
// A format missing from schemaFormats prints in English.
var chinesePrinter = newChinesePrinter()

func newChinesePrinter() *message.Printer {
	builder := catalog.NewBuilder(catalog.Fallback(language.English))
	for format, chinese := range schemaFormats {
		if err := builder.SetString(language.SimplifiedChinese, format, chinese); err != nil {
			panic("i18n: add jsonschema format " + format + ": " + err.Error())
		}
	}
	return message.NewPrinter(language.SimplifiedChinese, message.Catalog(builder))
}
