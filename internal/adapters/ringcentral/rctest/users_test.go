package rctest

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestCreateUserAnswersTheVendorShape(t *testing.T) {
	c := newClient(t, WithoutRateLimits())
	r := c.create("jim.bean@example.com", func(b map[string]any) {
		b["externalId"] = "701985"
		b["schemas"] = []any{scim.UserSchema, scim.EnterpriseUserSchema}
		b[scim.EnterpriseUserSchema] = map[string]any{"department": "Sales", "manager": map[string]any{"value": "x"}}
		b["addresses"] = []any{map[string]any{"type": "work", "streetAddress": "100 Universal City Plaza",
			"locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US"}}
		b["displayName"] = "Jim Bean"
		b["nickName"] = "JB"
		b["title"] = "Sales rep"
	})
	if id := r.str("id"); id != strconv.Itoa(firstUserID) {
		t.Errorf("id %q, want %d", id, firstUserID)
	}
	if got := r.header.Get("Location"); got != locationBase+r.str("id") {
		t.Errorf("Location %q", got)
	}
	meta, _ := r.body["meta"].(map[string]any)
	if meta["resourceType"] != "User" || meta["location"] != "http://scim.ringcentral.com/scim/v2/Users/"+r.str("id") {
		t.Errorf("meta %v", meta)
	}
	if _, ok := meta["version"]; ok {
		t.Errorf("meta has a version; RingCentral has none: %v", meta)
	}
	ts := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	if !ts.MatchString(meta["created"].(string)) || meta["created"] != meta["lastModified"] {
		t.Errorf("meta dates %v", meta)
	}
	if r.body["active"] != false {
		t.Errorf("active %v, want false when omitted", r.body["active"])
	}
	if _, ok := r.body["displayName"]; ok {
		t.Errorf("displayName kept; RingCentral drops it: %s", r.raw)
	}
	if _, ok := r.body["nickName"]; ok {
		t.Errorf("nickName kept: %s", r.raw)
	}
	if r.str("title") != "Sales rep" || r.str("externalId") != "701985" {
		t.Errorf("title/externalId lost: %s", r.raw)
	}
	ent, _ := r.body[scim.EnterpriseUserSchema].(map[string]any)
	if len(ent) != 1 || ent["department"] != "Sales" {
		t.Errorf("enterprise %v, want only department", ent)
	}
	a := firstAddress(r.body)
	if a["country"] != "United States" || a["region"] != "CA" || a["type"] != "work" {
		t.Errorf("address %v, want country normalised to United States", a)
	}
	if p := phones(r.body); p["other"] != strconv.Itoa(firstExtension) || len(p) != 1 {
		t.Errorf("phoneNumbers %v, want the extension as type other", p)
	}
	emails, _ := r.body["emails"].([]any)
	if len(emails) != 1 || emails[0].(map[string]any)["value"] != "jim.bean@example.com" {
		t.Errorf("emails %v", emails)
	}
	second := c.create("second@example.com")
	if id, _ := strconv.Atoi(second.str("id")); id <= firstUserID {
		t.Errorf("second id %s, want above the first", second.str("id"))
	}
	got := c.do(http.MethodGet, "/Users/"+r.str("id"), nil).want(t, http.StatusOK)
	if got.str("userName") != "jim.bean@example.com" || c.srv.Count() != 2 {
		t.Errorf("GET %s, count %d", got.raw, c.srv.Count())
	}
}

func TestCreateUserRefusesWhatTheSchemaRefuses(t *testing.T) {
	tests := []struct {
		name     string
		change   func(map[string]any)
		status   int
		scimType scim.ScimType
	}{
		{"no schemas", func(b map[string]any) { delete(b, "schemas") }, 400, scim.InvalidValue},
		{"no core schema", func(b map[string]any) { b["schemas"] = []any{scim.EnterpriseUserSchema} }, 400, scim.InvalidValue},
		{"no userName", func(b map[string]any) { delete(b, "userName") }, 400, scim.InvalidValue},
		{"userName not a string", func(b map[string]any) { b["userName"] = 5 }, 400, scim.InvalidValue},
		{"no name", func(b map[string]any) { delete(b, "name") }, 400, scim.InvalidValue},
		{"no givenName", func(b map[string]any) { b["name"] = map[string]any{"familyName": "B"} }, 400, scim.InvalidValue},
		{"no familyName", func(b map[string]any) { b["name"] = map[string]any{"givenName": "J"} }, 400, scim.InvalidValue},
		{"no emails", func(b map[string]any) { delete(b, "emails") }, 400, scim.InvalidValue},
		{"email differs from userName", func(b map[string]any) {
			b["emails"] = []any{map[string]any{"type": "work", "value": "other@example.com"}}
		}, 400, scim.InvalidValue},
		{"home email", func(b map[string]any) {
			b["emails"] = []any{map[string]any{"type": "home", "value": b["userName"]}}
		}, 400, scim.InvalidValue},
		{"two emails", func(b map[string]any) {
			b["emails"] = []any{map[string]any{"type": "work", "value": b["userName"]}, map[string]any{"type": "work", "value": "x@example.com"}}
		}, 400, scim.InvalidValue},
		{"active as string", func(b map[string]any) { b["active"] = "true" }, 400, scim.InvalidValue},
		{"fax phone", func(b map[string]any) {
			b["phoneNumbers"] = []any{map[string]any{"type": "fax", "value": "+14155550100"}}
		}, 400, scim.InvalidValue},
		{"home address", func(b map[string]any) { b["addresses"] = []any{map[string]any{"type": "home", "locality": "X"}} }, 400, scim.InvalidValue},
		{"invalid US region", func(b map[string]any) {
			b["addresses"] = []any{map[string]any{"type": "work", "region": "Bavaria", "country": "US"}}
		}, 400, scim.InvalidValue},
		{"unknown country", func(b map[string]any) { b["addresses"] = []any{map[string]any{"type": "work", "country": "Atlantis"}} }, 400, scim.InvalidValue},
		{"department not a string", func(b map[string]any) { b[scim.EnterpriseUserSchema] = map[string]any{"department": 1} }, 400, scim.InvalidValue},
	}
	c := newClient(t, WithoutRateLimits())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := newUser("someone@example.com")
			tt.change(body)
			c.do(http.MethodPost, "/Users", body).wantSCIMError(t, tt.status, tt.scimType)
		})
	}
	c.do(http.MethodPost, "/Users", "{not json").wantSCIMError(t, 400, scim.InvalidSyntax)
	c.do(http.MethodPost, "/Users", "[]").wantSCIMError(t, 400, scim.InvalidSyntax)
	if n := c.srv.Count(); n != 0 {
		t.Errorf("Count() = %d after refused creates", n)
	}
}

func TestRegionErrorIsTheVendorsText(t *testing.T) {
	c := newClient(t, WithoutRateLimits())
	r := c.do(http.MethodPost, "/Users", func() map[string]any {
		b := newUser("a@example.com")
		b["addresses"] = []any{map[string]any{"type": "work", "region": "ZZ", "country": "United States"}}
		return b
	}())
	r.wantSCIMError(t, 400, scim.InvalidValue)
	if r.str("detail") != "Parameter [extension.contact.businessAddress.state] value is invalid." {
		t.Errorf("detail %q", r.str("detail"))
	}
}

func TestDuplicateUserNameIsConflict(t *testing.T) {
	c := newClient(t, WithoutRateLimits())
	c.create("dup@example.com")
	other := c.create("other@example.com")
	r := c.do(http.MethodPost, "/Users", newUser("DUP@example.com"))
	r.wantSCIMError(t, http.StatusConflict, scim.Uniqueness)
	if r.str("detail") != "duplicate email" {
		t.Errorf("detail %q", r.str("detail"))
	}
	c.do(http.MethodPut, "/Users/"+other.str("id"), newUser("dup@example.com")).wantSCIMError(t, http.StatusConflict, scim.Uniqueness)
	// A PUT that keeps its own userName is no conflict.
	c.do(http.MethodPut, "/Users/"+other.str("id"), newUser("other@example.com")).want(t, http.StatusOK)
}

func TestPutReplacesAndKeepsTheExtension(t *testing.T) {
	clk := newFakeClock()
	c := newClient(t, WithoutRateLimits(), WithClock(clk.Now))
	created := c.create("p@example.com", func(b map[string]any) {
		b["active"] = true
		b["title"] = "Boss"
		b["phoneNumbers"] = []any{map[string]any{"type": "mobile", "value": "+14155550101"}}
	})
	id := created.str("id")
	clk.Advance(1500 * time.Millisecond)
	body := newUser("p2@example.com")
	body["phoneNumbers"] = []any{map[string]any{"type": "other", "value": "999"}}
	r := c.do(http.MethodPut, "/Users/"+id, body).want(t, http.StatusOK)
	if r.str("id") != id || r.str("userName") != "p2@example.com" {
		t.Errorf("PUT answer %s", r.raw)
	}
	if r.body["active"] != false || r.str("title") != "" {
		t.Errorf("PUT kept omitted attributes: %s", r.raw)
	}
	if p := phones(r.body); p["other"] != phones(created.body)["other"] || p["mobile"] != "" {
		t.Errorf("phoneNumbers %v, want only the kept extension %v", p, phones(created.body))
	}
	meta, _ := r.body["meta"].(map[string]any)
	cmeta, _ := created.body["meta"].(map[string]any)
	if meta["created"] != cmeta["created"] || meta["lastModified"] == cmeta["lastModified"] {
		t.Errorf("meta %v after %v", meta, cmeta)
	}
	c.do(http.MethodPut, "/Users/1", newUser("x@example.com")).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodPut, "/Users/"+id, map[string]any{"schemas": []any{scim.UserSchema}}).wantSCIMError(t, 400, scim.InvalidValue)
}

func TestDeleteUser(t *testing.T) {
	c := newClient(t, WithoutRateLimits())
	id := c.create("d@example.com").str("id")
	r := c.do(http.MethodDelete, "/Users/"+id, nil).want(t, http.StatusNoContent)
	if len(r.raw) != 0 {
		t.Errorf("204 with a body: %s", r.raw)
	}
	c.do(http.MethodGet, "/Users/"+id, nil).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodDelete, "/Users/"+id, nil).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodGet, "/Users/abc", nil).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodGet, "/Users/0"+id, nil).wantSCIMError(t, http.StatusNotFound, "")
	// The userName is free again.
	c.create("d@example.com")
}

func TestUnassignedExtensions(t *testing.T) {
	c := newClient(t, WithoutRateLimits(), WithUnassignedExtensions(1))
	first := c.create("one@example.com")
	if n := c.srv.UnassignedExtensions(); n != 0 {
		t.Errorf("UnassignedExtensions() = %d after a create, want 0", n)
	}
	r := c.do(http.MethodPost, "/Users", newUser("two@example.com"))
	r.wantSCIMError(t, http.StatusNotFound, "")
	if r.str("detail") != noExtensionDetail {
		t.Errorf("detail %q", r.str("detail"))
	}
	c.do(http.MethodDelete, "/Users/"+first.str("id"), nil).want(t, http.StatusNoContent)
	second := c.create("two@example.com")
	if phones(second.body)["other"] != phones(first.body)["other"] {
		t.Errorf("the freed extension %v was not reused: %v", phones(first.body), phones(second.body))
	}

	none := newClient(t, WithoutRateLimits(), WithUnassignedExtensions(0), WithSeed(2))
	none.do(http.MethodPost, "/Users", newUser("x@example.com")).wantSCIMError(t, http.StatusNotFound, "")
	if n := none.srv.UnassignedExtensions(); n != 0 {
		t.Errorf("UnassignedExtensions() = %d, want 0 (seeded users take none)", n)
	}

	unlimited := newClient(t, WithoutRateLimits())
	if n := unlimited.srv.UnassignedExtensions(); n != -1 {
		t.Errorf("UnassignedExtensions() = %d without the option, want -1", n)
	}
}

func TestShortListForm(t *testing.T) {
	for _, short := range []bool{false, true} {
		t.Run("short="+strconv.FormatBool(short), func(t *testing.T) {
			opts := []Option{WithoutRateLimits()}
			if short {
				opts = append(opts, WithShortListForm())
			}
			c := newClient(t, opts...)
			id := c.create("s@example.com").str("id")
			list := c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
			item := list.body["Resources"].([]any)[0].(map[string]any)
			_, hasPhones := item["phoneNumbers"]
			_, hasAddrs := item["addresses"]
			if hasPhones == short || hasAddrs == short {
				t.Errorf("list item %v: phoneNumbers %v, addresses %v", item, hasPhones, hasAddrs)
			}
			one := c.do(http.MethodGet, "/Users/"+id, nil)
			if _, ok := one.body["phoneNumbers"]; !ok {
				t.Errorf("GET by id lacks phoneNumbers: %s", one.raw)
			}
		})
	}
}
