package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/i18n"
	"portcullis.dev/tenants/config"
)

// MaxBodyBytes is the maximum size of a request body. Fiber rejects a larger
// body with 413 before any handler runs.
const MaxBodyBytes = 1 << 20

// decodeJSON decodes the request body into dst. It rejects a media type
// other than JSON (415), malformed JSON (400), and unknown fields or values
// of the wrong type (422), each as a problem that names the field.
func decodeJSON(c *fiber.Ctx, dst any) error {
	if err := checkContentType(c.Get(fiber.HeaderContentType)); err != nil {
		return err
	}

	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return newProblem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "the request body is empty: send a JSON object")
	}

	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(dst); err != nil {
		// encoding/json names an unknown field without its path, such as
		// "colour" for routes[1].colour; the walk of checkFieldNames names
		// the whole path.
		if issue := checkFieldNames(body, reflect.TypeOf(dst)); issue != nil && isUnknownField(err) {
			return invalidFields([]FieldIssue{*issue})
		}
		return decodeProblem(err)
	}

	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return newProblem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "the request body has data after the JSON object: send exactly one object")
	}

	if issue := checkFieldNames(body, reflect.TypeOf(dst)); issue != nil {
		return invalidFields([]FieldIssue{*issue})
	}
	return nil
}

// checkContentType accepts application/json and any "+json" media type.
func checkContentType(header string) error {
	mediaType, _, err := mime.ParseMediaType(header)
	if err == nil && (mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")) {
		return nil
	}

	problem := newProblemf(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
		"media type %q is not supported: send JSON with Content-Type: application/json", header)
	problem.Errors = []FieldIssue{{Field: "Content-Type", Message: "set the header to application/json"}}
	return problem
}

// unknownFieldPrefix starts the text of encoding/json's error for a field
// that the target type lacks.
const unknownFieldPrefix = "json: unknown field "

// isUnknownField reports whether err is encoding/json's unknown field error.
func isUnknownField(err error) bool {
	return strings.HasPrefix(err.Error(), unknownFieldPrefix)
}

// decodeProblem maps an encoding/json error to a problem.
func decodeProblem(err error) *Problem {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError

	switch {
	case errors.As(err, &syntaxErr):
		detail := fmt.Sprintf("the request body is not valid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
		return newProblem(http.StatusBadRequest, "invalid-json", "Invalid JSON", detail)

	case errors.Is(err, io.ErrUnexpectedEOF):
		return newProblem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "the request body ends before the JSON object is complete")

	case errors.As(err, &typeErr):
		return invalidFields(fieldIssues(typeIssue(typeErr)))
	}

	// NOTE: encoding/json reports an unknown field only through this message
	// text. If the text changes, such a body falls through to a 400 without
	// the field name, and the tests of unknown fields fail.
	if name, found := strings.CutPrefix(err.Error(), unknownFieldPrefix); found {
		field := strings.Trim(name, `"`)
		return invalidFields([]FieldIssue{{Field: field, Message: "unknown field: remove it or correct its name"}})
	}
	return newProblem(http.StatusBadRequest, "invalid-json", "Invalid JSON", "the request body is not valid JSON: "+err.Error())
}

// typeIssue describes a value of the wrong JSON type. encoding/json names
// nested fields with dots and without array indexes, as in
// "targets.weight". Both type names are i18n.JSONType values, so a Chinese
// message names the types in Chinese too.
func typeIssue(err *json.UnmarshalTypeError) *config.FieldError {
	field := err.Field
	if field == "" {
		field = "body"
	}
	return config.Invalid(field, "wrong type: got a JSON %s, want %s", i18n.JSONType(err.Value), jsonTypeName(err.Type))
}

// jsonTypeName names the JSON type that decodes into a Go type.
func jsonTypeName(t reflect.Type) i18n.JSONType {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	default:
		return "an object"
	}
}
