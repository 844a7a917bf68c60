package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	maxResponseBytes     = 64 << 10  // how much of a token endpoint response is read
	maxRetryAfterSeconds = 24 * 3600 // larger Retry-After values are read as one day
)

// EndpointError is a response from the token endpoint other than 200.
// It carries the status and the OAuth error code, never the response body.
type EndpointError struct {
	Status     int
	Code       string        // OAuth "error" field, such as "invalid_client"; empty when absent
	RetryAfter time.Duration // delay named by Retry-After; zero when absent or already past
}

func (e *EndpointError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("token endpoint returned status %d", e.Status)
	}
	return fmt.Sprintf("token endpoint returned status %d (%s)", e.Status, e.Code)
}

// Temporary reports whether a later attempt may succeed: the statuses that the
// Genesys SDKs retry, 429, 502, 503 and 504.
func (e *EndpointError) Temporary() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// requestToken performs one client-credentials request against the login host.
func requestToken(ctx context.Context, client *http.Client, creds Credentials, now time.Time) (Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		creds.LoginURL()+"/oauth/token", strings.NewReader(form))
	if err != nil {
		return Token{}, fmt.Errorf("build token request: %w", err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(creds.ClientID + ":" + creds.ClientSecret))
	req.Header.Set("Authorization", "Basic "+basic)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := client.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("request token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Token{}, fmt.Errorf("read token response: %w", err)
	}

	if resp.StatusCode != http.StatusOK {
		return Token{}, &EndpointError{
			Status:     resp.StatusCode,
			Code:       errorCode(body),
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
		}
	}
	return decodeToken(body, now)
}

func decodeToken(body []byte, now time.Time) (Token, error) {
	var answer struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return Token{}, errors.New("decode token response: invalid JSON")
	}
	switch {
	case answer.AccessToken == "":
		return Token{}, errors.New("decode token response: access_token is missing")
	case answer.ExpiresIn <= 0:
		return Token{}, fmt.Errorf("decode token response: expires_in is %d; want a positive number of seconds", answer.ExpiresIn)
	case answer.TokenType != "" && !strings.EqualFold(answer.TokenType, "bearer"):
		return Token{}, fmt.Errorf("decode token response: token_type is %q; want bearer", answer.TokenType)
	}
	return Token{
		Value:     answer.AccessToken,
		ExpiresAt: now.Add(time.Duration(answer.ExpiresIn) * time.Second),
	}, nil
}

// errorCode returns the "error" field of an OAuth error body when it is a
// plain code; anything else, such as an HTML page, yields "".
func errorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Error) > 64 {
		return ""
	}
	for _, r := range e.Error {
		isCode := r == '_' || r == '.' || r == '-' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !isCode {
			return ""
		}
	}
	return e.Error
}

// parseRetryAfter reads a Retry-After value in either form RFC 9110 allows,
// delay-seconds or an HTTP-date, and returns the delay from now. It returns 0
// for an absent or invalid value and for a date already past.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		// The cap keeps a huge value from overflowing time.Duration.
		return time.Duration(min(max(seconds, 0), maxRetryAfterSeconds)) * time.Second
	}
	if date, err := http.ParseTime(value); err == nil {
		return max(0, date.Sub(now))
	}
	return 0
}
