package webex

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// vendorErrorBody reads both error families of VENDORS.md 1.10: the SCIM
// error with the Cisco extension, and the platform error
// {message, errors[{description}], trackingId}.
type vendorErrorBody struct {
	Status   any    `json:"status"` // "409" or 409
	Detail   string `json:"detail"`
	ScimType string `json:"scimType"`
	Cisco    struct {
		TrackingID string `json:"trackingId"`
		ErrorCode  any    `json:"errorCode"`
		Details    string `json:"details"`
	} `json:"urn:scim:schemas:extension:cisco:webexidentity:api:messages:2.0:Error"`
	Message    string                         `json:"message"`
	Errors     []struct{ Description string } `json:"errors"`
	TrackingID string                         `json:"trackingId"`
}

// describe returns the vendor's message and tracking id, from whichever
// family the body is, falling back to the TrackingID response header.
func (b *vendorErrorBody) describe(h http.Header) (msg, tracking string) {
	tracking = b.Cisco.TrackingID
	if tracking == "" {
		tracking = b.TrackingID
	}
	if tracking == "" {
		tracking = h.Get("TrackingID")
	}
	for _, s := range []string{b.Detail, b.Cisco.Details, b.Message} {
		if s != "" {
			msg = s
			break
		}
	}
	if msg == "" && len(b.Errors) > 0 {
		msg = b.Errors[0].Description
	}
	return msg, tracking
}

// vendorError maps a Webex error answer to the RFC 7644 error the caller
// gets. The vendor's message and trackingId go into the detail (support
// asks for the trackingId) and the log.
func (a *Adapter) vendorError(ctx context.Context, req outbound.Request, resp *outbound.Response, rt *scim.ResourceType, id string) error {
	var body vendorErrorBody
	_ = json.Unmarshal(resp.Body, &body) // an unreadable body still has a status
	msg, tracking := body.describe(resp.Header)
	a.log.WarnContext(ctx, "webex error", "op", req.Op, "status", resp.Status, "trackingId", tracking, "vendorDetail", msg)
	if msg == "" {
		msg = http.StatusText(resp.Status)
	}
	detail := "Webex: " + msg
	if tracking != "" {
		detail += " (trackingId " + tracking + ")"
	}
	e := &scim.Error{Status: resp.Status, ScimType: scim.ScimType(body.ScimType), Detail: detail,
		Err: fmt.Errorf("webex %s %s: status %d", req.Method, req.Path, resp.Status)}
	switch st := resp.Status; {
	case st == http.StatusNotFound:
		if id != "" {
			e.Detail = fmt.Sprintf("%s %q not found", rt.ID, id) + trackingSuffix(tracking)
		}
	case st == http.StatusConflict:
		if e.ScimType == "" {
			e.ScimType = scim.Uniqueness
		}
	case st == http.StatusBadRequest:
		if e.ScimType == "" && req.Method == http.MethodGet {
			e.ScimType = scim.InvalidFilter
		} else if e.ScimType == "" {
			e.ScimType = scim.InvalidValue
		}
	case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable || st == http.StatusLocked:
		if st == http.StatusLocked {
			e.Status = http.StatusServiceUnavailable
		}
		e.RetryAfter = max(outbound.RetryAfterSeconds(resp.Header, time.Now()), 1)
	case st == http.StatusUnauthorized:
		// The gateway's own credential was refused even after a refresh:
		// not the caller's fault, and not something it can fix.
		e.Status, e.ScimType = http.StatusBadGateway, ""
		e.Detail = "Webex refused the gateway's access token; check the target's auth settings" + trackingSuffix(tracking)
	case st == http.StatusForbidden:
		e.ScimType = ""
		e.Detail = "Webex refused the operation (the token needs identity:people_rw and an admin role): " + msg + trackingSuffix(tracking)
	case st == http.StatusPreconditionFailed || st == http.StatusRequestEntityTooLarge:
	case st >= 500 || st < 400:
		e.Status, e.ScimType = http.StatusBadGateway, ""
		e.Detail = "Webex answered " + strconv.Itoa(st) + ": " + msg + trackingSuffix(tracking)
	default:
		// 405, 410, 415, 428...: a request the gateway should not have
		// built; the caller cannot fix it either.
		e.Status, e.ScimType = http.StatusBadGateway, ""
	}
	if e.ScimType != "" && !knownScimType(e.ScimType) {
		e.ScimType = ""
	}
	return e
}

func trackingSuffix(t string) string {
	if t == "" {
		return ""
	}
	return " (trackingId " + t + ")"
}

func knownScimType(t scim.ScimType) bool {
	switch t {
	case scim.InvalidFilter, scim.TooMany, scim.Uniqueness, scim.Mutability, scim.InvalidSyntax,
		scim.InvalidPath, scim.NoTarget, scim.InvalidValue, scim.InvalidVers, scim.Sensitive:
		return true
	}
	return false
}
