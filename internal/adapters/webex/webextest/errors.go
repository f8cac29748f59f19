package webextest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// CiscoErrorExtension is the key of the Cisco extension in a family-1
// error body (VENDORS.md 1.9, 1.10).
const CiscoErrorExtension = "urn:scim:schemas:extension:cisco:webexidentity:api:messages:2.0:Error"

// apiError is every failure the simulator answers. Webex answers in one of
// two body families (VENDORS.md 1.10): family 1, a SCIM error with the
// Cisco extension, for what the identity service itself rejects (400, 404,
// 409); family 2, the Webex platform error {message, errors, trackingId},
// for what the gateway in front of it rejects (401, 403, 405, 415, 429,
// 5xx, unknown routes).
type apiError struct {
	status     int
	scimType   scim.ScimType
	detail     string
	platform   bool // family 2
	retryAfter int  // seconds; sent as Retry-After when positive
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.scimType, e.detail)
}

// scimErr is a family-1 error.
func scimErr(status int, t scim.ScimType, format string, args ...any) *apiError {
	return &apiError{status: status, scimType: t, detail: fmt.Sprintf(format, args...)}
}

// badRequest is a family-1 400.
func badRequest(t scim.ScimType, format string, args ...any) *apiError {
	return scimErr(http.StatusBadRequest, t, format, args...)
}

// notFound is the family-1 404 of an unknown resource id.
func notFound(kind, id string) *apiError {
	return scimErr(http.StatusNotFound, "", "%s %s was not found", kind, id)
}

// platformErr is a family-2 error.
func platformErr(status int, format string, args ...any) *apiError {
	return &apiError{status: status, detail: fmt.Sprintf(format, args...), platform: true}
}

// asAPIError turns any error into the answer: a *scim.Error from the
// shared filter, PATCH and validation code becomes family 1; anything else
// is a bug in the simulator and answers a family-2 500.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *scim.Error
	if errors.As(err, &se) && se.Status != http.StatusInternalServerError {
		return &apiError{status: se.Status, scimType: se.ScimType, detail: se.Detail}
	}
	return platformErr(http.StatusInternalServerError, "internal error: %v", err)
}

// errorCode is the Cisco errorCode of a family-1 error: the status followed
// by three digits for the scimType. The live values are unknown; clients
// only log them.
func errorCode(status int, t scim.ScimType) string {
	n := 0
	switch t {
	case scim.InvalidFilter:
		n = 1
	case scim.TooMany:
		n = 2
	case scim.Uniqueness:
		n = 3
	case scim.Mutability:
		n = 4
	case scim.InvalidSyntax:
		n = 5
	case scim.InvalidPath:
		n = 6
	case scim.NoTarget:
		n = 7
	case scim.InvalidValue:
		n = 8
	case scim.InvalidVers:
		n = 9
	}
	return strconv.Itoa(status*1000 + n)
}

// body renders e in its family. bare leaves detail and scimType out of a
// family-1 body (WithBareErrors).
func (e *apiError) body(trackingID string, bare bool) map[string]any {
	if e.platform {
		return map[string]any{
			"message":    e.detail,
			"errors":     []any{map[string]any{"description": e.detail}},
			"trackingId": trackingID,
		}
	}
	b := map[string]any{
		"schemas": []any{scim.ErrorSchema},
		"status":  strconv.Itoa(e.status),
		CiscoErrorExtension: map[string]any{
			"trackingId": trackingID,
			"errorCode":  errorCode(e.status, e.scimType),
			"details":    e.detail,
		},
	}
	if !bare {
		b["detail"] = e.detail
		if e.scimType != "" {
			b["scimType"] = string(e.scimType)
		}
	}
	return b
}

// writeError answers e. It is the one place that writes an error body.
func (s *Sim) writeError(w http.ResponseWriter, trackingID string, err error) {
	e := asAPIError(err)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="webexapis.com"`)
	}
	writeJSON(w, e.status, e.body(trackingID, s.cfg.bareErrors))
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"message":"internal error: the answer could not be encoded","errors":[{"description":"internal error"}]}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
