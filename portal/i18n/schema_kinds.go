package i18n

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemaKindArgument is an argument that carries the failing keyword of a
// jsonschema validation, such as a binding config's schema mismatch.
type schemaKindArgument interface {
	ErrorKind() jsonschema.ErrorKind
}

// describeSchemaKind words a failing keyword in Simplified Chinese from the
// keyword's type and values, without the library's English text. It
// reports false for a keyword that it does not word, which then renders
// through chinesePrinter and schemaFormats.
func describeSchemaKind(failed jsonschema.ErrorKind) (string, bool) {
	switch k := failed.(type) {
	case *kind.Required:
		return "缺少必填属性 " + quoteNames(k.Missing), true
	case *kind.AdditionalProperties:
		return "不允许额外的属性 " + quoteNames(k.Properties) + "：请删除它们", true
	case *kind.Type:
		return fmt.Sprintf("值的类型是%s，应为%s", schemaTypeWord(k.Got), schemaTypeWords(k.Want)), true
	case *kind.Enum:
		return describeAllowedValues(k.Want), true
	case *kind.Const:
		return describeAllowedValues([]any{k.Want}), true
	case *kind.Pattern:
		return fmt.Sprintf("%q 不匹配正则表达式 %q", k.Got, k.Want), true
	case *kind.Format:
		return fmt.Sprintf("%s 不是有效的 %s 格式", schemaValueText(k.Got), k.Want), true
	}

	if text, found := describeSchemaBound(failed); found {
		return text, true
	}
	return "", false
}

// describeSchemaBound words the keywords that bound a number, a length or
// a count.
func describeSchemaBound(failed jsonschema.ErrorKind) (string, bool) {
	switch k := failed.(type) {
	case *kind.Minimum:
		return fmt.Sprintf("值为 %s，不能小于最小值 %s", ratText(k.Got), ratText(k.Want)), true
	case *kind.Maximum:
		return fmt.Sprintf("值为 %s，不能大于最大值 %s", ratText(k.Got), ratText(k.Want)), true
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("值为 %s，必须大于 %s", ratText(k.Got), ratText(k.Want)), true
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("值为 %s，必须小于 %s", ratText(k.Got), ratText(k.Want)), true
	case *kind.MultipleOf:
		return fmt.Sprintf("值为 %s，必须是 %s 的倍数", ratText(k.Got), ratText(k.Want)), true
	case *kind.MinLength:
		return fmt.Sprintf("长度为 %d 个字符，至少需要 %d 个", k.Got, k.Want), true
	case *kind.MaxLength:
		return fmt.Sprintf("长度为 %d 个字符，最多允许 %d 个", k.Got, k.Want), true
	case *kind.MinItems:
		return fmt.Sprintf("有 %d 项，至少需要 %d 项", k.Got, k.Want), true
	case *kind.MaxItems:
		return fmt.Sprintf("有 %d 项，最多允许 %d 项", k.Got, k.Want), true
	case *kind.MinProperties:
		return fmt.Sprintf("有 %d 个属性，至少需要 %d 个", k.Got, k.Want), true
	case *kind.MaxProperties:
		return fmt.Sprintf("有 %d 个属性，最多允许 %d 个", k.Got, k.Want), true
	}
	return "", false
}

// describeAllowedValues words an enum or const: the one value allowed, or
// the list of them.
func describeAllowedValues(values []any) string {
	if len(values) == 1 {
		return "值必须是 " + schemaValueText(values[0])
	}

	texts := make([]string, len(values))
	for i, value := range values {
		texts[i] = schemaValueText(value)
	}
	return "值必须是以下之一：" + strings.Join(texts, "、")
}

// schemaValueText renders a JSON value of a schema or an instance: a
// string quoted as Go does, any other value as compact JSON.
func schemaValueText(value any) string {
	if text, ok := value.(string); ok {
		return strconv.Quote(text)
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return fmt.Sprint(value)
	}
	return string(encoded)
}

// ratText renders a number of a bound keyword: an integer exactly, any
// other number as its nearest float64.
func ratText(number *big.Rat) string {
	if number == nil {
		return ""
	}
	if number.IsInt() {
		return number.Num().String()
	}
	value, _ := number.Float64()
	return strconv.FormatFloat(value, 'g', -1, 64)
}

// quoteNames quotes property names and joins them with the Chinese list
// separator.
func quoteNames(names []string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = strconv.Quote(name)
	}
	return strings.Join(quoted, "、")
}

// schemaTypeNames maps the JSON Schema type names to Chinese words.
var schemaTypeNames = map[string]string{
	"string": "字符串", "integer": "整数", "number": "数字", "boolean": "布尔值",
	"array": "数组", "object": "对象", "null": "null",
}

func schemaTypeWord(name string) string {
	if word, found := schemaTypeNames[name]; found {
		return word
	}
	return name
}

// schemaTypeWords joins the allowed types with "或".
func schemaTypeWords(names []string) string {
	words := make([]string, len(names))
	for i, name := range names {
		words[i] = schemaTypeWord(name)
	}
	return strings.Join(words, "或")
}
