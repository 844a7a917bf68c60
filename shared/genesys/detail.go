package genesys

import (
	"bytes"
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDetailBytes is the longest Result.Detail, in bytes.
const maxDetailBytes = 256

// errorBody is the part of a Genesys error body the client reads: the
// platform API's code and message, or the OAuth error and its description.
type errorBody struct {
	Code             string `json:"code"`
	Message          string `json:"message"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Description      string `json:"description"`
}

// describe returns the Genesys error code of a response and a one-line
// Detail with the status, the code and an excerpt of the body.
func describe(status int, contentType string, body []byte) (code, detail string) {
	code, text := summarize(contentType, body)
	detail = "HTTP " + strconv.Itoa(status)
	if code != "" {
		detail += " " + code
	}
	if text != "" {
		detail += ": " + text
	}
	return code, truncate(detail, maxDetailBytes)
}

// summarize returns the error code and the readable text of a response
// body, whether it is JSON, HTML or plain text.
func summarize(contentType string, body []byte) (code, text string) {
	var parsed errorBody
	if json.Unmarshal(body, &parsed) == nil {
		code = cmpOr(parsed.Code, parsed.Error)
		message := cmpOr(parsed.Message, parsed.ErrorDescription, parsed.Description)
		if code != "" || message != "" {
			return oneLine(code), oneLine(message)
		}
	}
	if strings.Contains(contentType, "html") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		return "", oneLine(stripTags(string(body)))
	}
	return "", oneLine(string(body))
}

func cmpOr(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// stripTags removes HTML tags and decodes entities. It is meant for short
// error pages, not for HTML in general.
func stripTags(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

// oneLine makes s valid UTF-8 and collapses every run of spaces and control
// characters into one space, so the text cannot break a log line.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most limit bytes at a rune boundary, marking the cut with an ellipsis.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := limit - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
