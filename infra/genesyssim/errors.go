package genesyssim

import (
	"encoding/json"
	"net/http"
)

// Error codes of the Genesys platform API that the simulator returns.
const (
	codeBadRequest         = "bad.request"
	codeInvalidProperty    = "invalid.property"
	codeNotFound           = "not.found"
	codeTooManyRequests    = "too.many.requests.retry.after"
	codeAuthRequired       = "authentication.required"
	codeBadCredentials     = "bad.credentials"
	codeMissingPermissions = "missing.permissions"

	tooManyRequestsMessage = "Rate limit exceeded the maximum. Retry the request in [%d] seconds"
)

// ErrorBody is the JSON body of a platform API error response.
type ErrorBody struct {
	Message   string        `json:"message"`
	Code      string        `json:"code"`
	Status    int           `json:"status"`
	ContextID string        `json:"contextId"`
	Details   []ErrorDetail `json:"details"`
	Errors    []ErrorBody   `json:"errors"`
}

// ErrorDetail names one invalid field of a rejected request.
type ErrorDetail struct {
	ErrorCode string `json:"errorCode"`
	FieldName string `json:"fieldName,omitempty"`
	Message   string `json:"message,omitempty"`
}

// OAuthError is the JSON body of an error from the token endpoint.
type OAuthError struct {
	Error            string `json:"error"`
	Description      string `json:"description"`
	ErrorDescription string `json:"error_description"`
}

func jsonResponse(status int, v any) *response {
	body, err := json.Marshal(v)
	if err != nil {
		// Only values built by this package reach here, and all of them marshal.
		panic("genesyssim: marshal response: " + err.Error())
	}
	header := http.Header{}
	header.Set("Content-Type", "application/json")
	return &response{status: status, header: header, body: body}
}

func textResponse(status int, contentType, body string) *response {
	header := http.Header{}
	header.Set("Content-Type", contentType)
	return &response{status: status, header: header, body: []byte(body)}
}

// platformError builds a platform API error whose contextId is the request's correlation id.
func (s *Server) platformError(c *call, status int, code, message string, details ...ErrorDetail) *response {
	if details == nil {
		details = []ErrorDetail{}
	}
	return jsonResponse(status, ErrorBody{
		Message:   message,
		Code:      code,
		Status:    status,
		ContextID: c.correlationID,
		Details:   details,
		Errors:    []ErrorBody{},
	})
}

func oauthError(status int, code, description string) *response {
	return jsonResponse(status, OAuthError{
		Error:            code,
		Description:      description,
		ErrorDescription: description,
	})
}
