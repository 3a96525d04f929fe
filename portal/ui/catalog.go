package ui

import (
	"fmt"
	"time"
)

// LanguageCookie contains the language that the page switch chose, "en" or
// "zh-CN". It outranks Accept-Language.
const LanguageCookie = "portcullis_lang"

// languageCookieLifetime is how long the language switch holds: one year.
const languageCookieLifetime = 365 * 24 * time.Hour

func isLanguage(tag string) bool {
	return tag == English || tag == SimplifiedChinese
}

// catalog is the console's message catalogue in one language.
type catalog struct {
	lang     string
	messages map[string]string
}

// catalogs holds the console's catalogue in each language.
var catalogs = map[string]catalog{
	English:           {lang: English, messages: englishMessages},
	SimplifiedChinese: {lang: SimplifiedChinese, messages: chineseMessages},
}

// Lang returns the catalogue's BCP 47 tag.
func (c catalog) Lang() string { return c.lang }

// Get returns the message of key. A key missing from the catalogue shows
// as "[[key]]", which the catalogue tests look for.
func (c catalog) Get(key string) string {
	if message, found := c.messages[key]; found {
		return message
	}
	return "[[" + key + "]]"
}

// Format returns the message of key with its verbs filled from args.
func (c catalog) Format(key string, args ...any) string {
	return fmt.Sprintf(c.Get(key), args...)
}
