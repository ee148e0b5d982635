package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"
)

// apiError is one entry of an envelope's errors, with the HTTP status it goes with.
type apiError struct {
	Code       int         `json:"code"`
	Message    string      `json:"message"`
	ErrorChain []*apiError `json:"error_chain,omitempty"`

	status     int
	retryAfter int    // seconds, for the Retry-After header
	allow      string // for the Allow header of a 405
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

// The errors Cloudflare answers with, as seen in the field (see the fact sheet).
func errNoRoute() *apiError {
	return &apiError{status: http.StatusNotFound, Code: 7003, Message: "No route for the URI"}
}

func errMethodNotAllowed(allow string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, Code: 7001,
		Message: "Method not allowed for this route", allow: allow}
}

func errNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, Code: 12135,
		Message: "access.api.error.not_found"}
}

func errInvalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: 12130,
		Message: "access.api.error.invalid_request: " + fmt.Sprintf(format, args...)}
}

func errUnauthenticated() *apiError {
	return &apiError{status: http.StatusUnauthorized, Code: 10000,
		Message: "Authentication error"}
}

func errForbidden() *apiError {
	return &apiError{status: http.StatusForbidden, Code: 10000, Message: "Authentication error"}
}

func errUnknownScope() *apiError {
	return &apiError{status: http.StatusForbidden, Code: 9109,
		Message: "Unauthorized to access requested resource"}
}

func errBadAuthHeader() *apiError {
	return &apiError{status: http.StatusBadRequest, Code: 6003,
		Message: "Invalid request headers", ErrorChain: []*apiError{
			{Code: 6111, Message: "Invalid format for Authorization header"}}}
}

func errRateLimited(retryAfter int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, Code: 971,
		Message: "Please wait and consider throttling your request speed", retryAfter: retryAfter}
}

func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, Code: 10001,
		Message: "Internal server error"}
}

// faultError is the answer of an injected fault.
func faultError(f Fault) *apiError {
	if f.Status == http.StatusTooManyRequests {
		return errRateLimited(f.RetryAfter)
	}
	return &apiError{status: f.Status, Code: 10001, retryAfter: f.RetryAfter,
		Message: http.StatusText(f.Status) + " (injected fault)"}
}

func asAPIError(err error) *apiError {
	var apiErr *apiError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return errInternal()
}

// maxBodyBytes bounds request bodies.
const maxBodyBytes = 1 << 20

// decodeBody decodes a JSON request body into v, and describes what is wrong with it as a
// 400 invalid_request.
func decodeBody(c *apiCall, v any) error {
	body := http.MaxBytesReader(nil, c.r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return errInvalid("%s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errInvalid("malformed JSON: unexpected data after the request object")
	}
	return nil
}

// decodeOptionalBody is decodeBody for requests whose body may be empty.
func decodeOptionalBody(c *apiCall, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, c.r.Body, maxBodyBytes))
	if err != nil {
		return errInvalid("%s", jsonProblem(err))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	c.r.Body = io.NopCloser(bytes.NewReader(data))
	return decodeBody(c, v)
}

func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	var timeErr *time.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return "missing request body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of the request body"
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Sprintf("want %s, got %s", kindName(typeErr.Type), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s: want %s, got %s", typeErr.Field, kindName(typeErr.Type),
			typeErr.Value)
	case errors.As(err, &tooBig):
		return fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &timeErr):
		return fmt.Sprintf("invalid date-time %q (want RFC 3339)", timeErr.Value)
	}
	return "malformed JSON"
}

func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	}
	return "an object"
}
