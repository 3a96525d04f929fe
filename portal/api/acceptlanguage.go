package api

import (
	"sort"
	"strconv"
	"strings"
)

// LanguageRange is one language range of an Accept-Language header with its
// weight (RFC 9110 section 12.5.4).
type LanguageRange struct {
	Tag    string
	Weight float64
}

// ParseAcceptLanguage returns the language ranges of an Accept-Language
// header, highest weight first and in header order among equal weights. It
// leaves out empty ranges, ranges of weight 0 and ranges whose q is not a
// number.
func ParseAcceptLanguage(header string) []LanguageRange {
	var ranges []LanguageRange
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		weight := 1.0
		if value, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			parsed, err := strconv.ParseFloat(value, 64)
			if err != nil {
				continue
			}
			weight = parsed
		}
		if tag == "" || weight <= 0 {
			continue
		}
		ranges = append(ranges, LanguageRange{Tag: strings.TrimSpace(tag), Weight: weight})
	}

	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].Weight > ranges[j].Weight })
	return ranges
}
