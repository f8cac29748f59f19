// Package scim is the model every layer of the gateway shares: resources,
// resource types, schemas with their attribute definitions, PATCH operations
// and the typed error that the router renders as an RFC 7644 §3.12 Error.
package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ScimType is the RFC 7644 §3.12 keyword carried by a 400 (and some 409) error.
type ScimType string

// The scimType keywords of RFC 7644 §3.12 Table 9.
const (
	InvalidFilter ScimType = "invalidFilter"
	TooMany       ScimType = "tooMany"
	Uniqueness    ScimType = "uniqueness"
	Mutability    ScimType = "mutability"
	InvalidSyntax ScimType = "invalidSyntax"
	InvalidPath   ScimType = "invalidPath"
	NoTarget      ScimType = "noTarget"
	InvalidValue  ScimType = "invalidValue"
	InvalidVers   ScimType = "invalidVers"
	Sensitive     ScimType = "sensitive"
)

// Error is a failure a SCIM client can act on. The router renders Status,
// ScimType and Detail; Err is the cause and goes only to logs and spans.
type Error struct {
	Status   int
	ScimType ScimType // RFC 7644 §3.12 keyword, e.g. Uniqueness; may be empty
	Detail   string   // safe to show a client
	Err      error
	// RetryAfter, when positive, is sent as the Retry-After header (seconds)
	// with a 429 or 503.
	RetryAfter int
}

func (e *Error) Error() string {
	msg := strconv.Itoa(e.Status)
	if e.ScimType != "" {
		msg += " " + string(e.ScimType)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches Status, and ScimType when the target sets one:
// errors.Is(err, ErrNotFound) holds for any 404.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && (t.ScimType == "" || t.ScimType == e.ScimType)
}

// Sentinels to match with errors.Is; never return them modified.
var (
	ErrNotFound           = &Error{Status: http.StatusNotFound}
	ErrConflict           = &Error{Status: http.StatusConflict}
	ErrPreconditionFailed = &Error{Status: http.StatusPreconditionFailed}
	ErrBadRequest         = &Error{Status: http.StatusBadRequest}
)

// Errorf returns a *Error with the given status, scimType and a formatted detail.
func Errorf(status int, t ScimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: t, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 with the given scimType and a formatted detail.
func BadRequest(t ScimType, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, t, format, args...)
}

// NotFound returns the 404 for a missing resource of type rt.
func NotFound(rt, id string) *Error {
	return Errorf(http.StatusNotFound, "", "%s %q not found", rt, id)
}

// Conflict returns a 409 uniqueness error.
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, Uniqueness, format, args...)
}

// PreconditionFailed returns the 412 for a version that no longer matches.
func PreconditionFailed(rt, id string) *Error {
	return Errorf(http.StatusPreconditionFailed, "", "%s %q was modified: version does not match", rt, id)
}

// AsError returns err as a *Error. Anything else becomes a 500 whose detail is
// fixed, so internal causes never reach a client.
func AsError(err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error", Err: err}
}
