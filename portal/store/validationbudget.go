package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The walk of checkSchemaCost bounds what a schema applies to one value,
// but recursion multiplies it by the depth of the config: a schema whose
// array items apply it twice checks a value at depth d 2^d times. A
// validation budget bounds the work itself. Every subschema applied to a
// value spends from it, so validation stops once it is spent, however the
// schema is built.
const (
	// maxValidationWork caps the subschemas applied in one validation.
	// Each value of an enum counts one more, because the library compares
	// a value with each. In a schema that uses unevaluatedProperties or
	// unevaluatedItems, each member of an object or array counts one more,
	// because the library copies the members for each subschema. At about 1.4 µs each on a 2-CPU machine,
	// that is about 0.15 s.
	maxValidationWork = 100_000
	// maxNumberLength caps the characters of a number in a schema or a
	// config, and maxExponent the size of its exponent. The library
	// parses numbers into exact fractions for each comparison, and
	// 1e999999 has about 3.3 million bits.
	maxNumberLength = 100
	maxExponent     = 400
)

// costVocabularyURL names the vocabulary that spends the budget. No schema
// declares it: the compiler asserts it for every schema.
const costVocabularyURL = "mem://portcullis/vocabularies/cost"

// errValidationBudget is the panic that stops a validation whose budget is
// spent. validateConfig recovers it.
var errValidationBudget = errors.New("validation budget spent")

// validationBudget is the work left for the validation that runs on one
// compiled schema. A compiled schema serves one goroutine at a time.
// perMember is set when the schema uses unevaluatedProperties or
// unevaluatedItems anywhere. The library then copies the members of an
// object or array for each subschema that applies to it, so each
// application charges one more per member.
type validationBudget struct {
	left      int
	perMember bool
}

// vocabulary returns the vocabulary that charges every object schema's
// application to b.
func (b *validationBudget) vocabulary() *jsonschema.Vocabulary {
	return &jsonschema.Vocabulary{
		URL: costVocabularyURL,
		Compile: func(_ *jsonschema.CompilerContext, object map[string]any) (jsonschema.SchemaExt, error) {
			charge := costCharge{budget: b, weight: 1}
			if values, ok := object["enum"].([]any); ok {
				charge.weight += len(values)
			}
			return charge, nil
		},
	}
}

// costCharge spends weight from the budget each time its schema applies
// to a value, and one more per member of an object or array when the
// budget's perMember is set.
type costCharge struct {
	budget *validationBudget
	weight int
}

func (c costCharge) Validate(_ *jsonschema.ValidatorContext, value any) {
	spent := c.weight
	if c.budget.perMember {
		switch members := value.(type) {
		case map[string]any:
			spent += len(members)
		case []any:
			spent += len(members)
		}
	}
	c.budget.left -= spent
	if c.budget.left < 0 {
		panic(errValidationBudget)
	}
}

// checkDynamicRefs rejects a "$dynamicRef" or "$recursiveRef" that
// validation resolves through the dynamic scope. The cost walk cannot list
// its targets, and a config schema has no need for them.
func checkDynamicRefs(s *jsonschema.Schema, seen map[*jsonschema.Schema]bool) error {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	if (s.DynamicRef != nil && s.DynamicRef.Anchor != "") || s.RecursiveRef != nil {
		return fieldError("config_schema", "config_schema uses $dynamicRef or $recursiveRef at %s, which is not supported: use $ref", strings.TrimPrefix(s.Location, schemaURL))
	}
	for _, sub := range subschemas(s) {
		if err := checkDynamicRefs(sub, seen); err != nil {
			return err
		}
	}
	return nil
}

// checkNumbers rejects a number in a JSON document that is longer than
// maxNumberLength or whose exponent is above maxExponent, naming field.
func checkNumbers(document []byte, field string) error {
	decoder := json.NewDecoder(bytes.NewReader(document))
	decoder.UseNumber()
	for {
		token, err := decoder.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// The caller's parse reports the syntax error.
			return nil
		}
		number, ok := token.(json.Number)
		if !ok {
			continue
		}
		if len(number) > maxNumberLength || exponentAbove(string(number), maxExponent) {
			excerpt := string(number)
			if len(excerpt) > 20 {
				excerpt = excerpt[:20] + "..."
			}
			return fieldError(field, "%s contains the number %s, longer than %d characters or with an exponent above %d: use a number within the range of a float64", field, excerpt, maxNumberLength, maxExponent)
		}
	}
}

// exponentAbove reports whether the exponent of a JSON number is above
// limit in size.
func exponentAbove(number string, limit int) bool {
	index := strings.IndexAny(number, "eE")
	if index < 0 {
		return false
	}
	exponent, err := strconv.Atoi(strings.TrimPrefix(number[index+1:], "+"))
	return err != nil || exponent > limit || exponent < -limit
}
