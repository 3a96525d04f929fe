package i18n

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/message"

	"portcullis.dev/tenants/config"
)

func TestFieldMessageKeepsValues(t *testing.T) {
	issue := config.Invalid("targets[0].url", "%q has port %q: use a port from 1 to 65535", "http://10.0.0.5:70000", "70000")

	got := FieldMessage(issue)
	want := `"http://10.0.0.5:70000" 的端口是 "70000"：请使用 1 到 65535 之间的端口`
	if got != want {
		t.Errorf("FieldMessage() = %q, want %q", got, want)
	}
}

func TestFieldMessageDoesNotGroupDigits(t *testing.T) {
	issue := config.Invalid("config", "config is %d bytes, above the limit of %d", 70000, 65536)

	got := FieldMessage(issue)
	want := "config 有 70000 字节，超过上限 65536"
	if got != want {
		t.Errorf("FieldMessage() = %q, want %q", got, want)
	}
}

func TestFieldMessageFallsBackToEnglish(t *testing.T) {
	tests := []struct {
		name  string
		issue *config.FieldError
	}{
		{"unknown format", config.Invalid("name", "%q is a name the catalog lacks", "x")},
		{"no format", &config.FieldError{Field: "name", Message: "a message the catalog lacks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FieldMessage(tt.issue); got != tt.issue.Message {
				t.Errorf("FieldMessage() = %q, want the English %q", got, tt.issue.Message)
			}
		})
	}
}

func TestChineseTranslatesFixedMessages(t *testing.T) {
	if got, want := Chinese("duplicate field: send each field once"), "字段重复：每个字段只发送一次"; got != want {
		t.Errorf("Chinese() = %q, want %q", got, want)
	}
	if got, want := Chinese("100% unknown"), "100% unknown"; got != want {
		t.Errorf("Chinese() = %q, want %q unchanged", got, want)
	}
}

// keywordMessage renders like a jsonschema keyword.
type keywordMessage struct{}

func (keywordMessage) String() string { return "validation failed" }

func (keywordMessage) LocalizedString(printer *message.Printer) string {
	return printer.Sprintf("validation failed")
}

func TestTranslateLocalizesArguments(t *testing.T) {
	issue := config.Invalid("config.port", "does not match the plugin's config_schema: %s", keywordMessage{})
	if issue.Message != "does not match the plugin's config_schema: validation failed" {
		t.Fatalf("English message = %q", issue.Message)
	}

	got := FieldMessage(issue)
	want := "不符合插件的 config_schema：校验失败"
	if got != want {
		t.Errorf("FieldMessage() = %q, want %q", got, want)
	}
}

func TestChinesePrinterKeepsArgumentOrder(t *testing.T) {
	got := chinesePrinter.Sprintf("properties %s required, if %s exists", `"b"`, `"a"`)
	want := `存在 "a" 时，必须提供属性 "b"`
	if got != want {
		t.Errorf("Sprintf() = %q, want %q", got, want)
	}
}

func TestFieldMessageOfWrappedError(t *testing.T) {
	var issue *config.FieldError
	if !errors.As(errors.Join(config.Invalid("hosts", "hosts has %d entries, above the limit of %d", 40, 32)), &issue) {
		t.Fatal("errors.As found no *config.FieldError")
	}
	if got, want := FieldMessage(issue), "hosts 有 40 项，超过上限 32"; got != want {
		t.Errorf("FieldMessage() = %q, want %q", got, want)
	}
}

// TestRoutePatternMessagesInChinese validates route paths with each
// pattern problem and checks that the whole message is translated.
func TestRoutePatternMessagesInChinese(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"/users/{id", `"/users/{id" 不是有效的模式：片段 "{id" 不是参数`},
		{"/files/{path...}/x", `"/files/{path...}/x" 不是有效的模式：通配参数 "{path...}" 不是最后一个片段`},
		{"/users/{id}/{id}", `"/users/{id}/{id}" 不是有效的模式：参数 "id" 出现了两次`},
	}
	for _, tt := range tests {
		route := config.Route{Name: "r", Paths: []string{tt.path}, Upstream: "backend"}
		var issue *config.FieldError
		if !errors.As(route.Validate(), &issue) {
			t.Fatalf("Validate(%q) = %v, want a field error", tt.path, route.Validate())
		}
		if got := FieldMessage(issue); !strings.HasPrefix(got, tt.want) {
			t.Errorf("FieldMessage() of %q = %q, want it to start with %q", tt.path, got, tt.want)
		}
	}
}
