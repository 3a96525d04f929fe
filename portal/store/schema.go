package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// DefaultConfigSchema is the config schema of a plugin version published
// without one: any JSON object.
const DefaultConfigSchema = `{"type":"object"}`

// MaxSchemaLength is the maximum size of a config schema in bytes.
const MaxSchemaLength = 64 << 10

// maxSchemaErrors caps the field errors reported for one config.
const maxSchemaErrors = 10

// schemaURL is the base URL of a config schema during compilation. It names
// no real resource: the compiler has no loader, so a schema can refer only
// to itself and to the JSON Schema meta-schemas bundled with the library.
const schemaURL = "mem://portcullis/config_schema.json"

var schemaPrinter = message.NewPrinter(language.English)

// normalizeSchema returns the compact form of a config schema, or the
// default schema for an empty or null one.
func normalizeSchema(raw json.RawMessage) (string, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return DefaultConfigSchema, nil
	}
	if len(trimmed) > MaxSchemaLength {
		return "", fieldError("config_schema", "config_schema is %d bytes, above the limit of %d", len(trimmed), MaxSchemaLength)
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, trimmed); err != nil {
		return "", fieldError("config_schema", "config_schema is not valid JSON: %v", err)
	}
	return compact.String(), nil
}

// compileSchema compiles a config schema and checks that validating a
// config against it stays cheap (schemalimits.go). Schemas without
// "$schema" follow JSON Schema draft 2020-12.
func compileSchema(text string) (*configSchema, error) {
	if err := checkNumbers([]byte(text), "config_schema"); err != nil {
		return nil, err
	}
	document, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fieldError("config_schema", "config_schema is not valid JSON: %v", err)
	}

	if err := checkObjectType(document); err != nil {
		return nil, err
	}

	// A mention in a description also sets perMember, which only charges
	// more.
	budget := &validationBudget{perMember: strings.Contains(text, `"unevaluated`)}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	compiler.UseRegexpEngine(compileLimitedRegexp)
	compiler.RegisterVocabulary(budget.vocabulary())
	compiler.AssertVocabs()
	if err := compiler.AddResource(schemaURL, document); err != nil {
		return nil, fmt.Errorf("add config schema resource: %w", err)
	}

	schema, err := compiler.Compile(schemaURL)
	if err != nil {
		return nil, describeSchemaError(err, document)
	}
	if err := checkSchemaCost(schema); err != nil {
		return nil, err
	}
	if err := checkDynamicRefs(schema, map[*jsonschema.Schema]bool{}); err != nil {
		return nil, err
	}
	return &configSchema{schema: schema, budget: budget}, nil
}

// configSchema is a compiled config schema with the budget that bounds
// each validation against it.
type configSchema struct {
	schema *jsonschema.Schema
	budget *validationBudget
}

// validate validates instance within maxValidationWork, and reports
// whether the budget lasted.
func (c *configSchema) validate(instance any) (finished bool, err error) {
	c.budget.left = maxValidationWork
	defer func() {
		if r := recover(); r != nil {
			if r != errValidationBudget {
				panic(r)
			}
			finished, err = false, nil
		}
	}()
	return true, c.schema.Validate(instance)
}

// checkObjectType rejects a schema whose top-level "type" excludes objects,
// because a binding's config is always a JSON object and no binding could
// ever satisfy such a schema.
func checkObjectType(document any) error {
	object, ok := document.(map[string]any)
	if !ok {
		return nil
	}
	switch declared := object["type"].(type) {
	case nil:
		return nil
	case string:
		if declared == "object" {
			return nil
		}
	case []any:
		for _, item := range declared {
			if item == "object" {
				return nil
			}
		}
	}
	return fieldError("config_schema.type", "config_schema.type is %v: use \"object\", because a binding's config is a JSON object", object["type"])
}

// describeSchemaError turns a compile error into field errors on
// "config_schema". A schema that breaks the meta-schema gets one error for
// each failing keyword, such as "config_schema.properties.port.minimum".
func describeSchemaError(err error, document any) error {
	var invalid *jsonschema.SchemaValidationError
	var failed *jsonschema.ValidationError
	if errors.As(err, &invalid) && errors.As(invalid.Err, &failed) {
		return schemaFieldErrors(failed, document, metaSchemaCheck)
	}

	var load *jsonschema.LoadURLError
	if errors.As(err, &load) {
		return fieldError("config_schema", "reference %q cannot be loaded: refer only to definitions inside the schema, such as \"#/$defs/name\"", load.URL)
	}

	message := strings.ReplaceAll(err.Error(), schemaURL, "config_schema")
	return fieldError("config_schema", "config_schema is not a valid JSON Schema: %s", message)
}

// validateConfig checks a binding config against a compiled schema. It
// returns nil or the errors.Join of one *config.FieldError for each failing
// value, with fields such as "config.headers[0]".
func validateConfig(schema *configSchema, raw json.RawMessage) error {
	if err := checkNumbers(raw, "config"); err != nil {
		return err
	}
	instance, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return InvalidJSON("config", raw, err)
	}

	finished, err := schema.validate(instance)
	if !finished {
		return fieldError("config", "checking config against the plugin's config_schema took more than %d steps: the schema applies too many subschemas to this config, so use a smaller config or ask the publisher for a simpler schema", maxValidationWork)
	}
	if err == nil {
		return nil
	}
	var failed *jsonschema.ValidationError
	if !errors.As(err, &failed) {
		return fmt.Errorf("validate config: %w", err)
	}
	return schemaFieldErrors(failed, instance, configCheck)
}

// schemaCheck names the document under validation: a binding's config,
// which must match the plugin's config_schema, or a config_schema, which
// must match the JSON Schema meta-schema.
type schemaCheck struct {
	root string
	meta bool
}

var (
	configCheck     = schemaCheck{root: "config"}
	metaSchemaCheck = schemaCheck{root: "config_schema", meta: true}
)

// schemaFieldErrors returns the errors.Join of one *config.FieldError for
// each failing value, sorted by field and capped at maxSchemaErrors. Only
// the errors it returns get a message, since a config can fail one
// keyword thousands of times and a keyword such as a long enum makes a
// long message.
func schemaFieldErrors(failed *jsonschema.ValidationError, instance any, check schemaCheck) error {
	var pending []pendingFieldError
	collectSchemaErrors(failed, instance, check, &pending)

	sort.SliceStable(pending, func(i, j int) bool { return pending[i].field < pending[j].field })
	if len(pending) > maxSchemaErrors {
		pending = pending[:maxSchemaErrors]
	}
	fieldErrors := make([]error, len(pending))
	for i, p := range pending {
		fieldErrors[i] = p.message(p.field)
	}
	return errors.Join(fieldErrors...)
}

// pendingFieldError is a failing value whose message is built only when it
// is reported.
type pendingFieldError struct {
	field   string
	message func(field string) error
}

// collectSchemaErrors appends one pending field error for each leaf of the
// validation error tree, since the leaves name the failing keywords.
func collectSchemaErrors(failed *jsonschema.ValidationError, instance any, check schemaCheck, out *[]pendingFieldError) {
	if len(failed.Causes) > 0 {
		for _, cause := range failed.Causes {
			collectSchemaErrors(cause, instance, check, out)
		}
		return
	}

	field := fieldPath(check.root, instance, failed.InstanceLocation)

	switch problem := failed.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range problem.Missing {
			*out = append(*out, pendingFieldError{joinField(field, name), func(field string) error { return missingProperty(field, check) }})
		}
	case *kind.AdditionalProperties:
		for _, name := range problem.Properties {
			*out = append(*out, pendingFieldError{joinField(field, name), func(field string) error { return unknownProperty(field, check) }})
		}
	default:
		*out = append(*out, pendingFieldError{field, func(field string) error { return schemaMismatch(field, check, schemaKind{problem}) }})
	}
}

func missingProperty(field string, check schemaCheck) error {
	if check.meta {
		return fieldError(field, "missing: the JSON Schema meta-schema requires this property")
	}
	return fieldError(field, "missing: the plugin's config_schema requires this property")
}

func unknownProperty(field string, check schemaCheck) error {
	if check.meta {
		return fieldError(field, "unknown property: the JSON Schema meta-schema does not allow it")
	}
	return fieldError(field, "unknown property: the plugin's config_schema does not allow it")
}

func schemaMismatch(field string, check schemaCheck, problem schemaKind) error {
	if check.meta {
		return fieldError(field, "does not match the JSON Schema meta-schema: %s", problem)
	}
	return fieldError(field, "does not match the plugin's config_schema: %s", problem)
}

// schemaKind is a failing keyword of a validation. It formats as English
// through fmt, and LocalizedString lets a translator render it with a
// message.Printer for another language.
type schemaKind struct {
	kind jsonschema.ErrorKind
}

func (k schemaKind) String() string {
	return k.kind.LocalizedString(schemaPrinter)
}

// LocalizedString renders the keyword's message with the printer's
// language and catalog.
func (k schemaKind) LocalizedString(printer *message.Printer) string {
	return k.kind.LocalizedString(printer)
}

// ErrorKind returns the failing keyword, so that a translator can word the
// message by the keyword's type rather than by its English text.
func (k schemaKind) ErrorKind() jsonschema.ErrorKind {
	return k.kind
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// fieldPath turns a JSON Pointer's tokens into a field below root, such as
// "config.headers[0].name". It walks the instance to tell array indexes from
// object keys that look like numbers.
func fieldPath(root string, instance any, tokens []string) string {
	field := root
	current := instance

	for _, token := range tokens {
		switch value := current.(type) {
		case []any:
			index, _ := strconv.Atoi(token)
			field += fmt.Sprintf("[%d]", index)
			if index >= 0 && index < len(value) {
				current = value[index]
			}
		case map[string]any:
			field = joinField(field, token)
			current = value[token]
		default:
			field = joinField(field, token)
			current = nil
		}
	}
	return field
}

// joinField appends an object key, quoting keys that are not identifiers.
func joinField(field, key string) string {
	if identifier.MatchString(key) {
		return field + "." + key
	}
	return field + "[" + strconv.Quote(key) + "]"
}

// CheckSchema checks a plugin's config schema as publishing does, so a
// tool such as "portcullis plugin test" can report the same errors before
// an upload. Empty or null means the default schema.
func CheckSchema(raw json.RawMessage) error {
	_, err := compileConfigSchema(raw)
	return err
}

// CheckConfig checks a binding config against a plugin's config schema as
// a binding write does.
func CheckConfig(schema, config json.RawMessage) error {
	compiled, err := compileConfigSchema(schema)
	if err != nil {
		return err
	}
	normalized, err := normalizeConfig(config)
	if err != nil {
		return err
	}
	return validateConfig(compiled, normalized)
}

func compileConfigSchema(raw json.RawMessage) (*configSchema, error) {
	text, err := normalizeSchema(raw)
	if err != nil {
		return nil, err
	}
	return compileSchema(text)
}
