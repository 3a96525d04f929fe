package i18n

import (
	"fmt"
	"strconv"
	"strings"
)

// formatVerbs maps each argument number of a printf format, from 1, to the
// verbs that print it, with their flags, width and precision. A "%%" is
// not a verb.
func formatVerbs(format string) (map[int][]string, error) {
	verbs := make(map[int][]string)
	argument := 0

	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}

		start := i
		explicit := 0
		for i < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[i]) >= 0 {
			if format[i] == '[' {
				end := strings.IndexByte(format[i:], ']')
				if end < 0 {
					return nil, fmt.Errorf("unclosed index in %q", format)
				}
				index, err := strconv.Atoi(format[i+1 : i+end])
				if err != nil {
					return nil, fmt.Errorf("index %q in %q: %w", format[i+1:i+end], format, err)
				}
				explicit = index
				i += end
			}
			i++
		}
		if i >= len(format) {
			return nil, fmt.Errorf("format %q ends inside a verb", format)
		}

		argument++
		if explicit > 0 {
			argument = explicit
		}
		spec := removeIndexes(format[start:i]) + string(format[i])
		verbs[argument] = append(verbs[argument], spec)
	}
	return verbs, nil
}

// removeIndexes drops the "[n]" parts of a verb's flags.
func removeIndexes(flags string) string {
	var flagsOnly strings.Builder
	depth := 0
	for _, r := range flags {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			flagsOnly.WriteRune(r)
		}
	}
	return flagsOnly.String()
}

// compareVerbs returns an error unless the translation prints every
// argument of the English format, and no other, with the same verb.
func compareVerbs(english, translated string) error {
	want, err := formatVerbs(english)
	if err != nil {
		return err
	}
	got, err := formatVerbs(translated)
	if err != nil {
		return err
	}

	for argument, verbs := range want {
		for _, verb := range got[argument] {
			if verb != verbs[0] {
				return fmt.Errorf("argument %d prints as %%%s, want %%%s", argument, verb, verbs[0])
			}
		}
		if len(got[argument]) == 0 {
			return fmt.Errorf("argument %d (%%%s) is missing", argument, verbs[0])
		}
	}
	for argument := range got {
		if _, found := want[argument]; !found {
			return fmt.Errorf("argument %d is not in the English format", argument)
		}
	}
	return nil
}
