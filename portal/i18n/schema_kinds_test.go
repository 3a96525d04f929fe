package i18n

import (
	"encoding/json"
	"math/big"
	"regexp"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// failedKeyword is a schema mismatch argument, as the store passes one.
type failedKeyword struct {
	kind jsonschema.ErrorKind
}

func (k failedKeyword) String() string {
	return k.kind.LocalizedString(message.NewPrinter(language.English))
}

func (k failedKeyword) LocalizedString(printer *message.Printer) string {
	return k.kind.LocalizedString(printer)
}

func (k failedKeyword) ErrorKind() jsonschema.ErrorKind { return k.kind }

// keywordWords are the English words of the library's keyword messages
// that a Chinese message must not keep.
var keywordWords = regexp.MustCompile(`\b(got|want|value|must|one|missing|property|properties|additional|allowed|does|not|match|pattern|minimum|maximum|minLength|maxLength|minItems|valid|string|integer|array)\b`)

func TestSchemaKindsInChinese(t *testing.T) {
	tests := []struct {
		name string
		kind jsonschema.ErrorKind
		want string
	}{
		{"required", &kind.Required{Missing: []string{"count", "window"}}, `缺少必填属性 "count"、"window"`},
		{"additional properties", &kind.AdditionalProperties{Properties: []string{"extra"}}, `不允许额外的属性 "extra"：请删除它们`},
		{"type", &kind.Type{Got: "array", Want: []string{"integer", "string"}}, "值的类型是数组，应为整数或字符串"},
		{"enum", &kind.Enum{Got: "c", Want: []any{"a", "b", json.Number("3")}}, `值必须是以下之一："a"、"b"、3`},
		{"const", &kind.Const{Got: "y", Want: "x"}, `值必须是 "x"`},
		{"minimum", &kind.Minimum{Got: big.NewRat(0, 1), Want: big.NewRat(1, 1)}, "值为 0，不能小于最小值 1"},
		{"maximum", &kind.Maximum{Got: big.NewRat(11, 2), Want: big.NewRat(5, 1)}, "值为 5.5，不能大于最大值 5"},
		{"exclusive minimum", &kind.ExclusiveMinimum{Got: big.NewRat(1, 1), Want: big.NewRat(1, 1)}, "值为 1，必须大于 1"},
		{"min length", &kind.MinLength{Got: 1, Want: 2}, "长度为 1 个字符，至少需要 2 个"},
		{"max length", &kind.MaxLength{Got: 7, Want: 5}, "长度为 7 个字符，最多允许 5 个"},
		{"pattern", &kind.Pattern{Got: "ABC", Want: "^[a-z]+$"}, `"ABC" 不匹配正则表达式 "^[a-z]+$"`},
		{"format", &kind.Format{Got: "nope", Want: "email"}, `"nope" 不是有效的 email 格式`},
		{"min items", &kind.MinItems{Got: 0, Want: 1}, "有 0 项，至少需要 1 项"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := Translate("does not match the plugin's config_schema: %s", failedKeyword{tt.kind})
			if !found {
				t.Fatal("Translate() found no Chinese format")
			}
			if want := "不符合插件的 config_schema：" + tt.want; got != want {
				t.Errorf("Translate() = %q, want %q", got, want)
			}
			if words := keywordWords.FindAllString(got, -1); len(words) > 0 {
				t.Errorf("Translate() = %q keeps the English words %q", got, words)
			}
		})
	}
}

func TestSchemaKindOutsideListUsesPrinter(t *testing.T) {
	got, found := Translate("does not match the plugin's config_schema: %s", failedKeyword{&kind.AllOf{}})
	if !found {
		t.Fatal("Translate() found no Chinese format")
	}
	if want := "不符合插件的 config_schema：'allOf' 未通过"; got != want {
		t.Errorf("Translate() = %q, want %q", got, want)
	}
}
