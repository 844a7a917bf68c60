package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"
)

// Default body caps. API Gateway hands Lambda a base64 body when it is binary
// (gzip), which grows it by a third: 4 MiB becomes 5.59 MB, leaving about
// 400 KB of Lambda's 6 MB request payload for headers and the event envelope.
// The decoded cap bounds memory when a small gzip body expands.
const (
	DefaultMaxBodyBytes    = 4 << 20
	DefaultMaxDecodedBytes = 8 << 20
)

// transportError is a problem with the request as a whole, before any event is read.
type transportError struct {
	status  int
	code    string
	message string
}

func (e *transportError) Error() string { return e.code + ": " + e.message }

// checkContentType accepts application/json with no charset or UTF-8.
func checkContentType(value string) error {
	mediaType, params, err := mime.ParseMediaType(value)
	if err != nil || mediaType != "application/json" {
		return &transportError{415, "unsupported_media_type",
			"Content-Type must be application/json; send the events as a JSON body"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &transportError{415, "unsupported_media_type",
			"the body must be UTF-8; drop the charset parameter or set charset=utf-8"}
	}
	return nil
}

// decodeBody undoes base64 and gzip, enforcing both caps. Decompression is
// streamed and stops one byte past the cap, so a small body that expands to
// gigabytes costs at most maxDecoded bytes of memory.
func decodeBody(body string, isBase64 bool, encoding string, maxBody, maxDecoded int) ([]byte, error) {
	raw := []byte(body)
	if isBase64 {
		if base64.StdEncoding.DecodedLen(len(body)) > maxBody+3 {
			return nil, tooLarge("the body", maxBody)
		}
		decoded := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
		n, err := base64.StdEncoding.Decode(decoded, raw)
		if err != nil {
			return nil, &transportError{400, "invalid_base64", "the body is marked base64 but is not valid base64"}
		}
		raw = decoded[:n]
	}
	if len(raw) > maxBody {
		return nil, tooLarge("the body", maxBody)
	}

	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		if len(raw) > maxDecoded {
			return nil, tooLarge("the body", maxDecoded)
		}
		return raw, nil
	case "gzip":
		return gunzip(raw, maxDecoded)
	}
	return nil, &transportError{415, "unsupported_encoding", "Content-Encoding must be gzip or absent"}
}

func gunzip(raw []byte, maxDecoded int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &transportError{400, "invalid_gzip", "the body is marked gzip but is not a gzip stream"}
	}
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, int64(maxDecoded)+1))
	if n > int64(maxDecoded) {
		return nil, tooLarge("the decompressed body", maxDecoded)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &transportError{400, "invalid_gzip", "the gzip body is truncated; send the whole stream"}
		}
		return nil, &transportError{400, "invalid_gzip", "the gzip body is corrupt"}
	}
	return out.Bytes(), nil
}

func tooLarge(what string, max int) error {
	return &transportError{413, "payload_too_large",
		what + " exceeds " + humanBytes(max) + "; split the events into several requests"}
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}
