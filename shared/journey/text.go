package journey

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Field length limits, in bytes of UTF-8.
const (
	maxNameLen   = 128  // event_name and property keys' neighbours
	maxIDLen     = 256  // user_id, session_id
	maxShortLen  = 256  // app, device, sdk, network and screen fields
	maxURLLen    = 2048 // page.url, referrer_url
	maxLongLen   = 1024 // page.title, search_query, user_agent
	maxKeyLen    = 128  // idempotency_key
	maxPropKey   = 64
	maxPropCount = 20
	maxPropBytes = 512 << 10
)

// checker collects the violations of one event.
type checker struct {
	index      int
	violations []Violation
}

func (c *checker) add(field, code, format string, args ...any) {
	c.violations = append(c.violations, Violation{
		Index: c.index, Field: field, Code: code, Message: fmt.Sprintf(format, args...),
	})
}

func (c *checker) ok() bool { return len(c.violations) == 0 }

// required checks a mandatory string field and returns its value.
func (c *checker) required(field string, v string, max int) string {
	if strings.TrimSpace(v) == "" {
		c.add(field, CodeMissingField, "%s is required and must be a non-empty string", field)
		return ""
	}
	return c.optional(field, v, max)
}

// optional checks a string field that may be absent and returns its value or "".
func (c *checker) optional(field string, s string, max int) string {
	if s == "" {
		return ""
	}
	if len(s) > max {
		c.add(field, CodeTooLong, "%s is %d bytes long; the maximum is %d", field, len(s), max)
		return ""
	}
	if !c.text(field, s) {
		return ""
	}
	return s
}

// text checks that s is valid UTF-8 made only of characters SQS accepts (the
// XML 1.0 character set). encoding/json turns invalid UTF-8 and lone
// surrogate escapes into U+FFFD, so a U+FFFD is rejected too: the client
// meant something else and the relay will not guess what.
func (c *checker) text(field, s string) bool {
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		c.add(field, CodeInvalidUTF8,
			"%s is not valid UTF-8 (or holds U+FFFD, the replacement character); send the text as UTF-8", field)
		return false
	}
	for i, r := range s {
		if !xmlChar(r) {
			c.add(field, CodeInvalidCharacter,
				"%s contains the character U+%04X at byte %d, which SQS cannot carry (ASCII control characters other than tab, newline and carriage return, U+FFFE and U+FFFF); remove it",
				field, r, i)
			return false
		}
	}
	return true
}

// validText reports whether text would pass checker.text.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || !xmlChar(r) {
			return false
		}
	}
	return true
}

// xmlChar reports whether r is in the XML 1.0 character set, the characters
// an SQS message may contain.
func xmlChar(r rune) bool {
	switch {
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// isWordChars reports whether s is made only of ASCII letters, digits and underscore.
func isWordChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

// isKeyChars reports whether s is a valid client idempotency key: printable
// ASCII letters, digits and . _ : -
func isKeyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c == ':' || c == '-' ||
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}
