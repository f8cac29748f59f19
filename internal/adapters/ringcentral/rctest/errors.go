package rctest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Platform error codes the simulator answers (VENDORS.md 2.9; RC-ERR).
const (
	CodeRateExceeded   = "CMN-301" // 429 Request rate exceeded
	CodeTokenExpired   = "OAU-128" // 401 Access token expired
	CodeInvalidToken   = "OAU-149" // 401 Invalid token
	CodeClientAuthReq  = "OAU-123" // token endpoint: no client authentication
	CodeInvalidClient  = "OAU-153" // token endpoint: unknown client or wrong secret
	CodeInvalidGrant   = "OAU-140" // token endpoint: assertion not accepted
	CodeTokenRevoked   = "OAU-211" // token endpoint: refresh token used, expired or unknown
	CodeUnsupportedGT  = "OAU-250" // token endpoint: grant type not supported
	CodeBadTokenParams = "OAU-101" // token endpoint: a parameter is missing
)

// FilterErrorDetail is the detail of RingCentral's 400 invalidFilter
// answer to any filter but `userName eq "x"` and `emails eq "x"`, copied
// from a live answer (VENDORS.md 2.5, RC-ISSUE38).
const FilterErrorDetail = "Only 'userName' or 'emails' fields and operation 'eq' are supported"

// errKind is the body family of an apiError.
type errKind int

const (
	kindSCIM     errKind = iota // {schemas, status (string), scimType, detail}
	kindPlatform                // {errorCode, message, errors[{errorCode, message}]}
	kindOAuth                   // {error, errors[{errorCode, message}], error_description}
)

// apiError is every failure the simulator answers. RingCentral answers in
// one of two body families on SCIM paths (VENDORS.md 2.9): a SCIM error for
// what the SCIM service rejects, and the platform format for what the API
// gateway in front of it rejects (401, 429). The token endpoint answers in
// the OAuth form with the platform's errors list.
type apiError struct {
	status     int
	kind       errKind
	scimType   scim.ScimType
	code       string // platform or OAuth errorCode
	oauth      string // OAuth error (invalid_grant, ...)
	detail     string
	retryAfter int // seconds; sent as Retry-After when positive
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s%s: %s", e.status, e.code, e.scimType, e.detail)
}

// scimErr is a SCIM-family error.
func scimErr(status int, t scim.ScimType, format string, args ...any) *apiError {
	return &apiError{status: status, kind: kindSCIM, scimType: t, detail: fmt.Sprintf(format, args...)}
}

// badValue is the 400 invalidValue of a request body the simulator refuses.
func badValue(format string, args ...any) *apiError {
	return scimErr(http.StatusBadRequest, scim.InvalidValue, format, args...)
}

// notFound is the 404 of a user id that does not exist.
func notFound(id string) *apiError {
	return scimErr(http.StatusNotFound, "", "User not found: %s", id)
}

// routeNotFound is the 404 of a path the simulator does not serve (/Groups,
// /Bulk, /Me, ...).
func routeNotFound(path string) *apiError {
	return scimErr(http.StatusNotFound, "", "Resource not found: %s", path)
}

// platformErr is a platform-family error.
func platformErr(status int, code, message string) *apiError {
	return &apiError{status: status, kind: kindPlatform, code: code, detail: message}
}

// oauthErr is a token-endpoint error.
func oauthErr(status int, oauth, code, message string) *apiError {
	return &apiError{status: status, kind: kindOAuth, oauth: oauth, code: code, detail: message}
}

// rateExceeded is the 429 of a breached limit or a request during a penalty.
func rateExceeded(retryAfter int) *apiError {
	e := platformErr(http.StatusTooManyRequests, CodeRateExceeded, "Request rate exceeded")
	e.retryAfter = retryAfter
	return e
}

// asAPIError turns any error into the answer; anything but an *apiError is
// a bug in the simulator and answers a SCIM 500.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return scimErr(http.StatusInternalServerError, "", "internal error: %v", err)
}

type scimErrorBody struct {
	Schemas  []string      `json:"schemas"`
	Status   string        `json:"status"`
	ScimType scim.ScimType `json:"scimType,omitempty"`
	Detail   string        `json:"detail,omitempty"`
}

type platformItem struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

type platformErrorBody struct {
	ErrorCode string         `json:"errorCode"`
	Message   string         `json:"message"`
	Errors    []platformItem `json:"errors"`
}

type oauthErrorBody struct {
	Error            string         `json:"error"`
	Errors           []platformItem `json:"errors"`
	ErrorDescription string         `json:"error_description"`
}

// body renders e in its family; scimOnly renders a platform error as a
// SCIM one (WithSCIMAuthErrors).
func (e *apiError) body(scimOnly bool) any {
	switch {
	case e.kind == kindOAuth:
		return oauthErrorBody{Error: e.oauth, Errors: []platformItem{{e.code, e.detail}}, ErrorDescription: e.detail}
	case e.kind == kindPlatform && !scimOnly:
		return platformErrorBody{ErrorCode: e.code, Message: e.detail, Errors: []platformItem{{e.code, e.detail}}}
	}
	return scimErrorBody{Schemas: []string{scim.ErrorSchema}, Status: strconv.Itoa(e.status), ScimType: e.scimType, Detail: e.detail}
}

// writeError answers err. It is the one place that writes an error body.
func (s *Sim) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asAPIError(err)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.status == http.StatusUnauthorized && e.kind == kindPlatform {
		w.Header().Set("WWW-Authenticate", `Bearer realm="RingCentral REST API"`)
	}
	ct := "application/json;charset=UTF-8"
	if e.kind == kindSCIM || s.cfg.scimAuthErrors && e.kind == kindPlatform {
		ct = scimContentType(r)
	}
	writeJSON(w, e.status, ct, e.body(s.cfg.scimAuthErrors))
}

// scimContentType is the Content-Type of a SCIM answer: application/scim+json
// when the client asks for it, else application/json (RingCentral accepts
// and returns both, VENDORS.md 2.1).
func scimContentType(r *http.Request) string {
	for _, a := range r.Header.Values("Accept") {
		if containsFold(a, "scim+json") {
			return "application/scim+json;charset=UTF-8"
		}
	}
	return "application/json;charset=UTF-8"
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"schemas":["` + scim.ErrorSchema + `"],"status":"500","detail":"internal error: the answer could not be encoded"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
