// Package i18n translates the field error messages and problem details of
// the portal into Simplified Chinese.
//
// Every field error built with config.Invalid, and every conflict or
// refusal built with a format, keeps its English printf format and
// arguments. The catalog maps each format to a Chinese format
// with the same verbs, and fmt fills it with the same arguments, so values
// such as names, numbers, URLs and JSON appear exactly as sent. fmt is
// used rather than a message.Printer because a Printer groups digits
// (65535 becomes 65,535).
package i18n

import (
	"fmt"
	"strings"

	"golang.org/x/text/message"

	"portcullis.dev/tenants/config"
)

// localizable is an argument that renders itself for a language, such as
// a jsonschema keyword message.
type localizable interface {
	LocalizedString(printer *message.Printer) string
}

// chineseFormats maps each English format to its Chinese format.
var chineseFormats = mergeFormats(configFormats, storeFormats, portalFormats, detailFormats, edgeFormats, installFormats, formFormats)

func mergeFormats(sources ...map[string]string) map[string]string {
	merged := make(map[string]string)
	for _, source := range sources {
		for english, chinese := range source {
			merged[english] = chinese
		}
	}
	return merged
}

// FieldMessage returns the message of issue in Simplified Chinese. It
// returns the English Message when issue has no format or the catalog has
// no translation of it.
func FieldMessage(issue *config.FieldError) string {
	if issue.Format == "" {
		return Chinese(issue.Message)
	}
	if translated, found := Translate(issue.Format, issue.Args...); found {
		return translated
	}
	return issue.Message
}

// Chinese returns the Chinese form of a fixed English message, one
// without values, or the message itself when the catalog lacks it.
func Chinese(text string) string {
	if strings.Contains(text, "%") {
		return text
	}
	if translated, found := Translate(text); found {
		return translated
	}
	return text
}

// Translate fills the Chinese form of the English format with args. It
// reports false when the catalog has no translation of format. An
// argument that carries a jsonschema keyword, or has a LocalizedString
// method, renders in Chinese as well.
func Translate(format string, args ...any) (string, bool) {
	chinese, found := chineseFormats[format]
	if !found {
		return "", false
	}

	localized := make([]any, len(args))
	for i, arg := range args {
		localized[i] = localize(arg)
	}
	return fmt.Sprintf(chinese, localized...), true
}

// localize returns the Chinese rendering of an argument: a jsonschema
// keyword worded by its type, or else a localizable value rendered through
// chinesePrinter. Other arguments stay as they are.
func localize(arg any) any {
	if failed, ok := arg.(schemaKindArgument); ok {
		if text, found := describeSchemaKind(failed.ErrorKind()); found {
			return text
		}
	}
	if value, ok := arg.(localizable); ok {
		return value.LocalizedString(chinesePrinter)
	}
	return arg
}
