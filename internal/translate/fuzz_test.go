package translate_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

// maxFuzzInput caps fuzz inputs near what the router's body limit lets
// through for one resource, so runs spend their time on structure.
const maxFuzzInput = 8 << 10

// FuzzValidate decodes a resource body as the router does and validates it
// for User and Group: no panic, every failure a 400 *scim.Error with a
// scimType, the input never modified, and a result that validates again to
// itself (canonical form is a fixed point) and can be encoded.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		userBody(`"userName": "bjensen", "name": {"givenName": "B"}, "emails": [{"value": "b@example.com", "primary": true}]`),
		userBody(`"USERNAME": "u", "active": "False", "emails": {"value": "a@example.com"}`),
		`{"userName": "u", "` + ent + `": {"department": "D", "manager": {"value": "m"}}, "` + ent + `:costCenter": "C"}`,
		`{"schemas": ["` + scim.GroupSchema + `", "urn:example:x"], "displayName": "G", "members": [{"value": "1", "display": "x"}]}`,
		`{"userName": "u", "x509Certificates": [{"value": "TUlJRA=="}], "profileUrl": "https://e.example/p", "id": 1, "meta": []}`,
		`{"userName": "u", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": "true"}]}`,
		`{"schemas": "x"}`,
		`{"userName": ["a"], "name": "x"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > maxFuzzInput {
			return
		}
		var r scim.Resource
		if json.Unmarshal([]byte(body), &r) != nil || r == nil {
			return
		}
		for _, rt := range []*scim.ResourceType{scim.UserType, scim.GroupType} {
			before := canon(t, r)
			out, err := translate.Validate(rt, r, nil)
			if canon(t, r) != before {
				t.Fatalf("Validate(%s, %s) modified its input", rt.ID, body)
			}
			if err != nil {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 || se.ScimType == "" {
					t.Fatalf("Validate(%s, %s): %v, want a 400 with a scimType", rt.ID, body, err)
				}
				continue
			}
			if _, err := json.Marshal(out); err != nil {
				t.Fatalf("Validate(%s, %s) result does not encode: %v", rt.ID, body, err)
			}
			again, err := translate.Validate(rt, out, nil)
			if err != nil || !reflect.DeepEqual(again, out) {
				t.Fatalf("Validate(%s) not a fixed point for %s:\n first %s\n again %v %v", rt.ID, body, canon(t, out), again, err)
			}
			// Replacing a resource with itself never trips immutability.
			if _, err := translate.Validate(rt, out, out); err != nil {
				t.Fatalf("Validate(%s) of %s against itself: %v", rt.ID, body, err)
			}
		}
	})
}

// FuzzProjection builds projections from arbitrary attributes and
// excludedAttributes text: no panic, never the password, always the id.
func FuzzProjection(f *testing.F) {
	f.Add("userName,emails.value", "meta")
	f.Add(ent+":manager.value, "+coreUser+":name.givenName", "groups")
	f.Add("password", "id")
	f.Add(",,urn:,a.b.c,:", ent)
	f.Fuzz(func(t *testing.T, attrs, excl string) {
		if len(attrs)+len(excl) > maxFuzzInput {
			return
		}
		r := decode(t, storedUser)
		out := translate.NewProjection(scim.UserType, []string{attrs}, strings.Split(excl, ";")).Apply(r)
		if _, ok := out["password"]; ok {
			t.Fatalf("attributes=%q excludedAttributes=%q returned the password", attrs, excl)
		}
		if out.ID() != r.ID() || out["schemas"] == nil {
			t.Fatalf("attributes=%q excludedAttributes=%q lost id or schemas: %v", attrs, excl, out)
		}
	})
}

// FuzzParseSort resolves arbitrary sortBy and sortOrder and sorts with the
// result: no panic, every failure a 400 invalidValue.
func FuzzParseSort(f *testing.F) {
	f.Add("userName", "descending")
	f.Add("emails.value", "")
	f.Add(ent+":manager.value", "ASCENDING")
	f.Add("name", "x")
	f.Fuzz(func(t *testing.T, by, order string) {
		if len(by)+len(order) > maxFuzzInput {
			return
		}
		s, err := translate.ParseSort(scim.UserType, by, order)
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType != scim.InvalidValue {
				t.Fatalf("ParseSort(%q, %q): %v, want a 400 invalidValue", by, order, err)
			}
			return
		}
		rs := []scim.Resource{decode(t, storedUser), {"id": "2"}, decode(t, storedUser)}
		translate.Sort(rs, s)
		if len(rs) != 3 {
			t.Fatalf("Sort lost resources")
		}
	})
}
