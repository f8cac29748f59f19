package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// maxDetail bounds the upstream detail passed on to a caller.
const maxDetail = 512

// decodeResource reads the resource in a 200 or 201 answer. An upstream that
// keeps the version only in the ETag header (RFC 7644 §3.14) gets it copied
// to meta.version, and meta.resourceType is filled when missing, so that
// every resource carries what the adapter contract promises.
func decodeResource(rt *scim.ResourceType, op string, resp *outbound.Response) (scim.Resource, error) {
	var r scim.Resource
	if err := json.Unmarshal(resp.Body, &r); err != nil || r == nil {
		return nil, badAnswer(op, rt, resp, "a body that is not a SCIM resource", err)
	}
	if err := complete(r, rt, resp.Header.Get("ETag")); err != nil {
		return nil, badAnswer(op, rt, resp, err.Error(), nil)
	}
	return r, nil
}

// complete checks that r has an id, fills meta.resourceType and, from etag
// when given, meta.version, and drops meta.location: it is the upstream's
// URL, which the gateway does not hand out (the router sets its own), and
// no upstream filter could match it.
func complete(r scim.Resource, rt *scim.ResourceType, etag string) error {
	if id, ok := r["id"].(string); !ok || id == "" {
		return errors.New("a resource without an id")
	}
	meta, ok := r["meta"].(map[string]any)
	if !ok {
		if r["meta"] != nil {
			return errors.New("a resource whose meta is not an object")
		}
		meta = map[string]any{}
		r["meta"] = meta
	}
	if s, _ := meta["resourceType"].(string); s == "" {
		meta["resourceType"] = rt.ID
	}
	delete(meta, "location")
	if s, _ := meta["version"].(string); s == "" && etag != "" {
		meta["version"] = etag
	}
	return nil
}

// listBody is a ListResponse (RFC 7644 §3.4.2) as decoded leniently:
// member names match in any case, as encoding/json does.
type listBody struct {
	TotalResults *int              `json:"totalResults"`
	Resources    []json.RawMessage `json:"Resources"`
}

// decodeList reads a ListResponse. A provider that leaves totalResults out
// is taken to have returned everything from startIndex on.
func decodeList(rt *scim.ResourceType, q adapters.Query, resp *outbound.Response) (adapters.Page, error) {
	var lb listBody
	if err := json.Unmarshal(resp.Body, &lb); err != nil {
		return adapters.Page{}, badAnswer("list", rt, resp, "a body that is not a SCIM ListResponse", err)
	}
	page := adapters.Page{Resources: make([]scim.Resource, 0, len(lb.Resources))}
	for _, raw := range lb.Resources {
		var r scim.Resource
		if err := json.Unmarshal(raw, &r); err != nil || r == nil {
			return adapters.Page{}, badAnswer("list", rt, resp, "a ListResponse with a member that is not a resource", err)
		}
		if err := complete(r, rt, ""); err != nil {
			return adapters.Page{}, badAnswer("list", rt, resp, "a ListResponse with "+err.Error(), nil)
		}
		page.Resources = append(page.Resources, r)
	}
	if lb.TotalResults != nil {
		page.TotalResults = *lb.TotalResults
	} else {
		page.TotalResults = max(q.StartIndex, 1) - 1 + len(page.Resources)
	}
	if page.TotalResults < 0 {
		return adapters.Page{}, badAnswer("list", rt, resp, "a negative totalResults", nil)
	}
	return page, nil
}

// badAnswer is the 502 for an answer the gateway cannot use.
func badAnswer(op string, rt *scim.ResourceType, resp *outbound.Response, what string, cause error) *scim.Error {
	return &scim.Error{
		Status: http.StatusBadGateway,
		Detail: fmt.Sprintf("the upstream answered %s %s with %s", op, rt.ID, what),
		Err:    fmt.Errorf("upstream: %s %s: status %d, %s: %w", op, rt.ID, resp.Status, describeBody(resp), cause),
	}
}

// errorBody is an RFC 7644 §3.12 Error. Status may be a string (as the RFC
// writes it) or a number (as some providers do); the HTTP status is what
// counts, so it is only used to recognize the body as an Error.
type errorBody struct {
	Schemas  []string        `json:"schemas"`
	Status   json.RawMessage `json:"status"`
	ScimType string          `json:"scimType"`
	Detail   string          `json:"detail"`
}

// parseError reads body as a SCIM Error. It reports false when body is not
// one: not a JSON object, or one with neither the Error schema nor a status.
// The detail it returns is cleaned for a client: control characters become
// spaces and it is cut to maxDetail bytes. A scimType outside RFC 7644
// §3.12 Table 9 is dropped: a client could not act on it.
func parseError(body []byte) (scim.ScimType, string, bool) {
	var eb errorBody
	if len(body) == 0 || json.Unmarshal(body, &eb) != nil {
		return "", "", false
	}
	isError := len(eb.Status) > 0 && !bytes.Equal(eb.Status, []byte("null"))
	for _, s := range eb.Schemas {
		isError = isError || strings.EqualFold(s, scim.ErrorSchema)
	}
	if !isError {
		return "", "", false
	}
	return knownScimType(eb.ScimType), cleanDetail(eb.Detail), true
}

var scimTypes = []scim.ScimType{
	scim.InvalidFilter, scim.TooMany, scim.Uniqueness, scim.Mutability, scim.InvalidSyntax,
	scim.InvalidPath, scim.NoTarget, scim.InvalidValue, scim.InvalidVers, scim.Sensitive,
}

func knownScimType(s string) scim.ScimType {
	for _, t := range scimTypes {
		if strings.EqualFold(s, string(t)) {
			return t
		}
	}
	return ""
}

func cleanDetail(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// fail maps an upstream answer that is not the success op expects to the
// *scim.Error a caller gets (see docs/upstream.md, "Errors"). id is the
// resource concerned, empty for a list or a create. The upstream's status
// and detail stay in Err for the logs.
func (a *Adapter) fail(rt *scim.ResourceType, id, op string, resp *outbound.Response) error {
	st, detail, isSCIM := parseError(resp.Body)
	detail = a.redact(detail)
	cause := fmt.Errorf("upstream: %s %s: status %d: %s", op, rt.ID, resp.Status, describeBody(resp))
	e := &scim.Error{Status: resp.Status, ScimType: st, Detail: detail, Err: cause}
	or := func(def string) string {
		if detail != "" {
			return detail
		}
		return def
	}
	switch s := resp.Status; {
	case s == http.StatusNotFound && id != "":
		// Lax providers answer a missing resource with an empty 404;
		// the status says enough.
		e.ScimType, e.Detail = "", scim.NotFound(rt.ID, id).Detail
	case s == http.StatusConflict:
		if e.ScimType == "" {
			e.ScimType = scim.Uniqueness
		}
		e.Detail = or(fmt.Sprintf("%s conflicts with an existing resource at the upstream", rt.ID))
	case s == http.StatusPreconditionFailed:
		e.ScimType, e.Detail = "", scim.PreconditionFailed(rt.ID, id).Detail
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		e.RetryAfter = outbound.RetryAfterSeconds(resp.Header, time.Now())
		e.ScimType = ""
		if s == http.StatusTooManyRequests {
			e.Detail = or("the upstream's rate limit is reached")
		} else {
			e.Detail = or("the upstream is unavailable")
		}
	case s == http.StatusUnauthorized || (s == http.StatusForbidden && !isSCIM):
		// The gateway's credential, not the caller's, was refused: a 401
		// here would tell the caller to fix theirs.
		e = gatewayError(http.StatusBadGateway, fmt.Sprintf("the upstream refused the gateway's credentials (%d)", s), cause)
	case s == http.StatusNotFound:
		e = gatewayError(http.StatusBadGateway, fmt.Sprintf("the upstream does not serve %s (404)", endpoint(rt)), cause)
	case s == http.StatusGatewayTimeout:
		e = gatewayError(http.StatusGatewayTimeout, "the upstream timed out", cause)
	case s >= 500 && s != http.StatusNotImplemented:
		e = gatewayError(http.StatusBadGateway, fmt.Sprintf("the upstream failed (%d)", s)+suffix(detail), cause)
	case s >= 400 && isSCIM:
		// 400, 403, 405, 413, 501...: the upstream's own answer to the
		// request, passed on.
		e.Detail = or(http.StatusText(s))
	case s >= 400:
		e = gatewayError(http.StatusBadGateway,
			fmt.Sprintf("the upstream answered %d with a body that is not a SCIM error (%s)", s, contentType(resp)), cause)
	default:
		e = gatewayError(http.StatusBadGateway, fmt.Sprintf("the upstream answered %s %s with an unexpected status %d", op, rt.ID, s), cause)
	}
	return e
}

// redact replaces the adapter's credentials in s.
func (a *Adapter) redact(s string) string {
	for _, secret := range a.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

func gatewayError(status int, detail string, cause error) *scim.Error {
	return &scim.Error{Status: status, Detail: detail, Err: cause}
}

func suffix(detail string) string {
	if detail == "" {
		return ""
	}
	return ": " + detail
}

// contentType names the media type of resp's body for an error detail.
func contentType(resp *outbound.Response) string {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		if len(resp.Body) == 0 {
			return "empty"
		}
		return "no content type"
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return "unparsable content type"
}

// describeBody summarizes resp's body for logs: its type and size, never its
// content (a body may hold personal data or echo a credential).
func describeBody(resp *outbound.Response) string {
	return contentType(resp) + ", " + strconv.Itoa(len(resp.Body)) + " bytes"
}
