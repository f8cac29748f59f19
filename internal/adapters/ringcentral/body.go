package ringcentral

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// listResponse is a ListResponse, its users decoded once (not kept raw and
// decoded again: a residual filter reads every user of the account).
type listResponse struct {
	TotalResults int              `json:"totalResults"`
	Resources    []map[string]any `json:"Resources"`
}

func decodeList(body []byte) (*listResponse, error) {
	var l listResponse
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, badVendorBody("list", err)
	}
	return &l, nil
}

func badVendorBody(what string, err error) error {
	return &scim.Error{Status: http.StatusBadGateway, Detail: "RingCentral answered " + what + " with a body the gateway cannot read", Err: err}
}

// fromVendor turns a RingCentral user into the normalized one: the
// attributes of UserType only (RingCentral answers with primary:false on
// every email, and its schemas list), with schemas rebuilt.
func fromVendor(body []byte) (scim.Resource, error) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return nil, badVendorBody("a user", err)
	}
	return fromVendorMap(in), nil
}

// fromVendorMap is fromVendor for a user already decoded.
func fromVendorMap(in map[string]any) scim.Resource {
	out := scim.Resource{}
	schemas := []any{scim.UserSchema}
	for k, v := range in {
		switch {
		case k == "id" || k == "externalId" || k == "meta":
			out[k] = v
		case UserType.Schema.Attr(k) != nil:
			out[UserType.Schema.Attr(k).Name] = v
		case strings.EqualFold(k, scim.EnterpriseUserSchema):
			if m, ok := v.(map[string]any); ok && len(m) > 0 {
				out[scim.EnterpriseUserSchema] = m
				schemas = append(schemas, scim.EnterpriseUserSchema)
			}
		}
	}
	// RingCentral keeps one email and answers primary:false on it: the
	// only email is the primary one, as the caller sent it.
	if emails := scim.AsList(out["emails"]); len(emails) == 1 {
		if e, ok := emails[0].(map[string]any); ok {
			e["primary"] = true
		}
	}
	out["schemas"] = schemas
	meta, _ := out["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	delete(out, "meta")
	// RingCentral has no versions (VENDORS.md 2.1): a hash of the content
	// is one, so the engine can check If-Match (a read before the write).
	meta["resourceType"] = "User"
	meta["version"] = contentVersion(out)
	out["meta"] = meta
	return out
}

// contentVersion is a weak ETag of r's content (encoding/json sorts keys,
// so equal content gives equal tags).
func contentVersion(r scim.Resource) string {
	b, _ := json.Marshal(r)
	h := fnv.New64a()
	h.Write(b)
	return `W/"` + strconv.FormatUint(h.Sum64(), 36) + `"`
}

// toVendor encodes a validated user as a RingCentral body, checking first
// what RingCentral requires (VENDORS.md 2.6), so that the caller gets a
// 400 naming the problem rather than the vendor's: a given and a family
// name, and one work email equal to userName (added when the user has no
// email). Types outside the canonical values of UserType are refused:
// RingCentral would drop those values.
func toVendor(r scim.Resource) ([]byte, error) {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if k != "id" && k != "meta" {
			out[k] = v
		}
	}
	name, _ := r["name"].(map[string]any)
	given, _ := name["givenName"].(string)
	family, _ := name["familyName"].(string)
	if strings.TrimSpace(given) == "" || strings.TrimSpace(family) == "" {
		return nil, scim.BadRequest(scim.InvalidValue, "RingCentral requires name.givenName and name.familyName")
	}
	userName, _ := r["userName"].(string)
	emails := scim.AsList(r["emails"])
	switch {
	case len(emails) == 0:
		out["emails"] = []any{map[string]any{"type": "work", "value": userName}}
	case len(emails) > 1:
		return nil, scim.BadRequest(scim.InvalidValue, "RingCentral keeps one email, the work email equal to userName; got %d", len(emails))
	default:
		e, _ := emails[0].(map[string]any)
		if v, _ := e["value"].(string); !strings.EqualFold(v, userName) {
			return nil, scim.BadRequest(scim.InvalidValue, "RingCentral requires the work email (%q) to equal userName (%q)", v, userName)
		}
	}
	for _, attr := range []string{"emails", "phoneNumbers", "addresses", "photos"} {
		def := UserType.Schema.Attr(attr).Sub("type")
		for _, e := range scim.AsList(out[attr]) {
			m, _ := e.(map[string]any)
			t, _ := m["type"].(string)
			if t == "" && attr != "phoneNumbers" {
				m["type"] = def.CanonicalValues[0]
				continue
			}
			if !slices.Contains(def.CanonicalValues, strings.ToLower(t)) {
				return nil, scim.BadRequest(scim.InvalidValue, "%s of type %q: RingCentral holds only %s",
					attr, t, strings.Join(def.CanonicalValues, ", "))
			}
		}
	}
	return json.Marshal(out)
}

// vendorErrorBody reads both error shapes of VENDORS.md 2.9: the SCIM error
// (status as a string) and the platform error {errorCode, message, errors}.
type vendorErrorBody struct {
	Status    any    `json:"status"`
	ScimType  string `json:"scimType"`
	Detail    string `json:"detail"`
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// vendorError maps a RingCentral error answer to the RFC 7644 error the
// caller gets, keeping the platform errorCode (CMN-301, OAU-128...) in the
// detail and the log.
func (a *Adapter) vendorError(ctx context.Context, req outbound.Request, resp *outbound.Response, id string) error {
	var b vendorErrorBody
	_ = json.Unmarshal(resp.Body, &b)
	msg := b.Detail
	if msg == "" {
		msg = b.Message
	}
	if msg == "" {
		msg = http.StatusText(resp.Status)
	}
	if b.ErrorCode != "" {
		msg += " (" + b.ErrorCode + ")"
	}
	a.log.WarnContext(ctx, "ringcentral error", "op", req.Op, "status", resp.Status, "errorCode", b.ErrorCode, "vendorDetail", msg)
	e := &scim.Error{Status: resp.Status, ScimType: scim.ScimType(b.ScimType), Detail: "RingCentral: " + msg,
		Err: &vendorStatus{req.Method, req.Path, resp.Status}}
	switch st := resp.Status; {
	case st == http.StatusNotFound && req.Method == http.MethodPost:
		// A create fails so when no unassigned extension is left (VENDORS.md
		// 2.8): nothing the caller's request can fix, nor a missing user.
		e.Status, e.ScimType = http.StatusBadRequest, ""
		e.Detail = "RingCentral could not create the user (is an unassigned extension left in the account?): " + msg
	case st == http.StatusNotFound:
		e.ScimType = ""
		if id != "" {
			e.Detail = "User " + strconv.Quote(id) + " not found"
		}
	case st == http.StatusConflict:
		e.ScimType = scim.Uniqueness
	case st == http.StatusBadRequest:
		if e.ScimType == "" {
			e.ScimType = scim.InvalidValue
		}
	case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
		e.RetryAfter = max(outbound.RetryAfterSeconds(resp.Header, time.Now()), 1)
	case st == http.StatusUnauthorized:
		e.Status, e.ScimType = http.StatusBadGateway, ""
		e.Detail = "RingCentral refused the gateway's access token; check the target's auth settings: " + msg
	case st == http.StatusForbidden:
		e.ScimType = ""
		e.Detail = "RingCentral refused the operation (the app needs ReadAccounts and EditAccounts, and an admin user): " + msg
	default:
		e.Status, e.ScimType = http.StatusBadGateway, ""
		e.Detail = "RingCentral answered " + strconv.Itoa(st) + ": " + msg
	}
	return e
}

// vendorStatus is the cause of a mapped error, for logs.
type vendorStatus struct {
	method, path string
	status       int
}

func (v *vendorStatus) Error() string {
	return "ringcentral " + v.method + " " + v.path + ": status " + strconv.Itoa(v.status)
}
