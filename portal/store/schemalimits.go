package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// A config schema comes from a publisher, and the portal validates binding
// configs against it inside the tenant's write transaction, so its cost
// must be bounded before any config meets it. The library follows every
// reference at each use: a schema of 40 definitions whose each entry
// refers to the next one twice checks one value 2^40 times. Go's regexp
// matches in time proportional to the text times the size of the compiled
// pattern, and a 71-byte pattern of ten ".{1000}" compiles to about 10,000
// instructions.
const (
	// maxSchemaReach caps the subschemas that can apply to the values of
	// one config, counted along every reference, allOf, properties and
	// the like, with a reference back into its own path counted once. The
	// catalogue's schemas reach 10 to 13.
	maxSchemaReach = 2000
	// maxPatternSize caps one pattern of a schema, in instructions of Go's
	// regexp program as patternSize estimates them.
	maxPatternSize = 1000
	// maxPatternsSize caps the sum of patternSize over the patterns of
	// the reached subschemas, so a pattern reached a thousand times
	// counts a thousand times. At about 9 ns per instruction and byte, a
	// 64 KiB config string meets at most about 1.2 s of matching.
	maxPatternsSize = 2000
	// maxEnumValues caps the values of one enum, and maxEnumNumbers the
	// numbers among them. A value that matches none of them is compared
	// with each, and the failure ends the subschema before the validation
	// budget charges it. Comparing numbers parses both into exact
	// fractions, about 1.7 µs each, so a 64 KiB config of 32,000 numbers
	// against 16 costs about 0.9 s.
	maxEnumValues  = 256
	maxEnumNumbers = 16
)

// sizedRegexp is a compiled pattern with its size estimate.
type sizedRegexp struct {
	*regexp.Regexp
	size int
}

// compileLimitedRegexp is the schema compiler's regexp engine. It rejects a
// pattern above maxPatternSize before Go compiles it, since the compile
// alone of a pattern near Go's own limit takes seconds and gigabytes.
func compileLimitedRegexp(pattern string) (jsonschema.Regexp, error) {
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	size := patternSize(parsed)
	if size > maxPatternSize {
		return nil, fmt.Errorf("pattern compiles to about %d instructions, above the limit of %d: use fewer or smaller repetition counts", size, maxPatternSize)
	}

	compiled, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	return sizedRegexp{Regexp: compiled, size: size}, nil
}

// patternSize estimates the instructions of the program that Go compiles
// for re. A counted repetition copies its operand up to its maximum
// count, which makes a short pattern large.
func patternSize(re *syntax.Regexp) int {
	const ceiling = 1 << 30

	children := 0
	for _, sub := range re.Sub {
		children = min(children+patternSize(sub), ceiling)
	}
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpRepeat:
		copies := re.Max
		if copies < 0 {
			copies = re.Min + 1
		}
		return min(children*max(copies, 1)+copies, ceiling)
	default:
		return children + 1
	}
}

// errSchemaTooBroad and errEnumTooLong stop the walk of checkSchemaCost at
// the first limit.
var (
	errSchemaTooBroad = errors.New("schema too broad")
	errEnumTooLong    = errors.New("enum too long")
)

// schemaCost walks a compiled schema along every subschema that can apply
// to a config, as validation would.
type schemaCost struct {
	onPath   map[*jsonschema.Schema]bool
	reached  int
	patterns int
}

// checkSchemaCost rejects a compiled schema that reaches more than
// maxSchemaReach subschemas, or whose reached patterns sum to more than
// maxPatternsSize.
func checkSchemaCost(schema *jsonschema.Schema) error {
	cost := &schemaCost{onPath: map[*jsonschema.Schema]bool{}}
	err := cost.visit(schema)
	if err == nil {
		return nil
	}
	if err == errEnumTooLong {
		return fieldError("config_schema", "config_schema has an enum of more than %d values or more than %d numbers: use a pattern, minimum and maximum, or fewer values", maxEnumValues, maxEnumNumbers)
	}

	if cost.reached > maxSchemaReach {
		return fieldError("config_schema", "config_schema applies more than %d subschemas to one config, counting each use of a $ref, allOf, anyOf, oneOf or property: refer to each definition from fewer places", maxSchemaReach)
	}
	return fieldError("config_schema", "the patterns of config_schema add up to more than %d instructions, counting a pattern once for each place that uses it: use shorter patterns or use them in fewer places", maxPatternsSize)
}

// visit counts s and walks its subschemas, unless s is on the current
// path already, as a recursive schema's reference back to itself is.
func (c *schemaCost) visit(s *jsonschema.Schema) error {
	if s == nil || c.onPath[s] {
		return nil
	}
	if s.Enum != nil && (len(s.Enum.Values) > maxEnumValues || countNumbers(s.Enum.Values) > maxEnumNumbers) {
		return errEnumTooLong
	}
	c.reached++
	c.patterns += regexpSize(s.Pattern)
	for pattern := range s.PatternProperties {
		c.patterns += regexpSize(pattern)
	}
	if c.reached > maxSchemaReach || c.patterns > maxPatternsSize {
		return errSchemaTooBroad
	}

	c.onPath[s] = true
	defer delete(c.onPath, s)
	for _, sub := range subschemas(s) {
		if err := c.visit(sub); err != nil {
			return err
		}
	}
	return nil
}

// regexpSize returns the size of a pattern that compileLimitedRegexp
// compiled, and 0 for none.
func regexpSize(pattern jsonschema.Regexp) int {
	if sized, ok := pattern.(sizedRegexp); ok {
		return sized.size
	}
	return 0
}

// subschemas returns the subschemas of s that apply to a config's values.
func subschemas(s *jsonschema.Schema) []*jsonschema.Schema {
	subs := []*jsonschema.Schema{
		s.Ref, s.RecursiveRef, s.Not, s.If, s.Then, s.Else, s.PropertyNames, s.UnevaluatedProperties,
		s.Contains, s.Items2020, s.UnevaluatedItems, s.ContentSchema,
	}
	if s.DynamicRef != nil {
		subs = append(subs, s.DynamicRef.Ref)
	}
	subs = append(subs, s.AllOf...)
	subs = append(subs, s.AnyOf...)
	subs = append(subs, s.OneOf...)
	subs = append(subs, s.PrefixItems...)
	for _, sub := range s.Properties {
		subs = append(subs, sub)
	}
	for _, sub := range s.PatternProperties {
		subs = append(subs, sub)
	}
	for _, sub := range s.DependentSchemas {
		subs = append(subs, sub)
	}
	for _, value := range s.Dependencies {
		subs = appendSchema(subs, value)
	}
	subs = appendSchema(subs, s.AdditionalProperties)
	subs = appendSchema(subs, s.AdditionalItems)
	return appendSchema(subs, s.Items)
}

// appendSchema appends value to subs when it is a *jsonschema.Schema or a
// list of them, as the library's fields of type any hold.
func appendSchema(subs []*jsonschema.Schema, value any) []*jsonschema.Schema {
	switch v := value.(type) {
	case *jsonschema.Schema:
		return append(subs, v)
	case []*jsonschema.Schema:
		return append(subs, v...)
	}
	return subs
}

// countNumbers returns how many of values are numbers.
func countNumbers(values []any) int {
	count := 0
	for _, value := range values {
		switch value.(type) {
		case json.Number, float64, int, int64:
			count++
		}
	}
	return count
}
