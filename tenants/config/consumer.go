package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a consumer.
const (
	MaxDescription = 1024
	MaxTags        = 32
)

// Consumer is an API client of a tenant. Its credentials live in the portal
// and reach the edge only as ids, types and hints.
type Consumer struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
}

// Validate checks a consumer's name, description and tags. A nil Tags is
// valid and means no tags.
func (c *Consumer) Validate() error {
	if err := ValidateName("name", c.Name); err != nil {
		return err
	}
	if err := validateDescription(c.Description); err != nil {
		return err
	}
	return validateTags(c.Tags)
}

func validateDescription(description string) error {
	switch {
	case !utf8.ValidString(description):
		return invalid("description", "description is not valid UTF-8: send it as UTF-8 text")
	case strings.IndexFunc(description, unicode.IsControl) >= 0:
		return invalid("description", "description contains a control character: remove it")
	case utf8.RuneCountInString(description) > MaxDescription:
		return invalid("description", "description is %d characters long: use at most %d", utf8.RuneCountInString(description), MaxDescription)
	}
	return nil
}

func validateTags(tags []string) error {
	if len(tags) > MaxTags {
		return invalid("tags", "a consumer has at most %d tags, got %d", MaxTags, len(tags))
	}

	seen := make(map[string]bool, len(tags))
	for i, tag := range tags {
		field := fmt.Sprintf("tags[%d]", i)
		if err := ValidateName(field, tag); err != nil {
			return err
		}
		if seen[tag] {
			return invalid(field, "tag %q appears twice: list each tag once", tag)
		}
		seen[tag] = true
	}
	return nil
}
