package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Credentials are the Genesys OAuth client stored in Secrets Manager as
//
//	{"client_id": "...", "client_secret": "...", "region": "mypurecloud.com",
//	 "login_base_url": "https://login.mypurecloud.com"}
//
// where login_base_url is optional and overrides region. String and LogValue
// leave the client secret out.
type Credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Region       string `json:"region"`         // region domain, such as "mypurecloud.ie"
	LoginBaseURL string `json:"login_base_url"` // such as "http://127.0.0.1:8080" for a simulator
}

// ParseCredentials decodes and validates the secret's JSON. Its errors name
// the invalid or missing field and never contain the secret's text.
func ParseCredentials(secret string) (Credentials, error) {
	var c Credentials
	if err := json.Unmarshal([]byte(secret), &c); err != nil {
		return Credentials{}, fmt.Errorf("parse Genesys client secret: %s", describeJSONError(err))
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.Region = strings.TrimSpace(c.Region)
	c.LoginBaseURL = strings.TrimRight(strings.TrimSpace(c.LoginBaseURL), "/")
	if err := c.validate(); err != nil {
		return Credentials{}, fmt.Errorf("parse Genesys client secret: %w", err)
	}
	return c, nil
}

func (c Credentials) validate() error {
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, errors.New("client_id is missing"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, errors.New("client_secret is missing"))
	}
	switch {
	case c.LoginBaseURL != "":
		if err := validateBaseURL(c.LoginBaseURL); err != nil {
			errs = append(errs, err)
		}
	case c.Region == "":
		errs = append(errs, errors.New("region is missing; set region or login_base_url"))
	case strings.ContainsAny(c.Region, "/:@?# ") || strings.HasPrefix(c.Region, "."):
		errs = append(errs, fmt.Errorf("region %q is invalid; want a domain such as mypurecloud.com", c.Region))
	}
	return errors.Join(errs...)
}

func validateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("login_base_url %q is invalid; want an http or https URL such as https://login.mypurecloud.com", raw)
	}
	return nil
}

// LoginURL returns the base URL of the login host: login_base_url when set,
// else https://login.<region>.
func (c Credentials) LoginURL() string {
	if c.LoginBaseURL != "" {
		return c.LoginBaseURL
	}
	return "https://login." + c.Region
}

// String describes the client without its secret.
func (c Credentials) String() string {
	return "Genesys client " + c.ClientID + " at " + c.LoginURL()
}

// LogValue returns the client id and login URL for slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", c.ClientID), slog.String("login_url", c.LoginURL()))
}

// describeJSONError keeps the position or field of a decoding error and drops
// the rest, because encoding/json quotes parts of the input in its messages.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte offset %d; want an object with client_id and client_secret", syntax.Offset)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("field %s is a JSON %s; want a %s", typeErr.Field, typeErr.Value, typeErr.Type)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("the secret is a JSON %s; want an object with client_id and client_secret", typeErr.Value)
	default:
		return "invalid JSON; want an object with client_id and client_secret"
	}
}
