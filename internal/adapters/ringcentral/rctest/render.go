package rctest

import (
	"net/http"
	"strconv"

	"github.com/scim-gateway/scim-gateway/internal/jsonenc"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// appendUser appends the wire form of u (VENDORS.md 2.6), in the order of
// the vendor's example: schemas, id, externalId, meta (no version), userName,
// name, active, emails, phoneNumbers, addresses, photos, title, enterprise.
// short leaves out phoneNumbers and addresses (WithShortListForm). It writes
// what encoding/json would write for the same values (render_test.go holds
// that reference), without reflection: a page of 1000 users is most of what
// a list costs.
func appendUser(b []byte, u *user, short bool) []byte {
	b = append(b, `{"schemas":["`+scim.UserSchema+`"`...)
	if u.department != "" {
		b = append(b, `,"`+scim.EnterpriseUserSchema+`"`...)
	}
	b = append(b, `],"id":"`...)
	b = strconv.AppendInt(b, u.id, 10)
	b = append(b, '"')
	if u.externalID != "" {
		b = append(b, `,"externalId":`...)
		b = appendString(b, u.externalID)
	}
	b = append(b, `,"meta":{"resourceType":"User","created":"`...)
	b = u.created.AppendFormat(b, timeFormat)
	b = append(b, `","lastModified":"`...)
	b = u.modified.AppendFormat(b, timeFormat)
	b = append(b, `","location":"`+locationBase...)
	b = strconv.AppendInt(b, u.id, 10)
	b = append(b, `"},"userName":`...)
	b = appendString(b, u.userName)
	b = append(b, `,"name":{"familyName":`...)
	b = appendString(b, u.familyName)
	b = append(b, `,"givenName":`...)
	b = appendString(b, u.givenName)
	b = append(b, `},"active":`...)
	b = strconv.AppendBool(b, u.active)
	b = append(b, `,"emails":[{"primary":false,"value":`...)
	b = appendString(b, u.userName)
	b = append(b, `,"type":"work"}]`...)
	if !short {
		b = append(b, `,"phoneNumbers":[`...)
		n := 0
		for _, p := range [...]struct{ value, typ string }{{u.workPhone, "work"}, {u.mobile, "mobile"}, {u.ext, "other"}} {
			if p.value == "" {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, `{"value":`...)
			b = appendString(b, p.value)
			b = append(b, `,"type":"`...)
			b = append(b, p.typ...)
			b = append(b, `"}`...)
		}
		b = append(b, `],"addresses":[`...)
		if a := u.addr; a != nil {
			b = append(b, `{"primary":false`...)
			for _, f := range [...]struct{ key, value string }{
				{`,"streetAddress":`, a.street}, {`,"locality":`, a.locality}, {`,"region":`, a.region},
				{`,"postalCode":`, a.postalCode}, {`,"country":`, a.country},
			} {
				if f.value != "" {
					b = append(b, f.key...)
					b = appendString(b, f.value)
				}
			}
			b = append(b, `,"type":"work"}`...)
		}
		b = append(b, ']')
	}
	if len(u.photos) > 0 {
		b = append(b, `,"photos":[`...)
		for i, p := range u.photos {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"value":`...)
			b = appendString(b, p.value)
			b = append(b, `,"type":`...)
			b = appendString(b, p.typ)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if u.title != "" {
		b = append(b, `,"title":`...)
		b = appendString(b, u.title)
	}
	if u.department != "" {
		b = append(b, `,"`+scim.EnterpriseUserSchema+`":{"department":`...)
		b = appendString(b, u.department)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendString appends s as encoding/json writes it (HTML escaping on).
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s, true) }

// appendList appends a ListResponse (VENDORS.md 2.4) of page.
func appendList(b []byte, total, start int, page []*user, short bool) []byte {
	b = append(b, `{"schemas":["`+scim.ListResponseSchema+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(page)), 10)
	b = append(b, `,"Resources":[`...)
	for i, u := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUser(b, u, short)
	}
	return append(b, "]}"...)
}

// writeRaw answers data, already JSON, with status.
func writeRaw(w http.ResponseWriter, status int, contentType string, data []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
