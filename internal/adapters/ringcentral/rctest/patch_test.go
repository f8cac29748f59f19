package rctest

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func patchBody(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": list}
}

func op(name, path string, value any) map[string]any {
	o := map[string]any{"op": name}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

// fullUser is a create body with every attribute RingCentral keeps.
func fullUser(b map[string]any) {
	b["schemas"] = []any{scim.UserSchema, scim.EnterpriseUserSchema}
	b["externalId"] = "x1"
	b["title"] = "Rep"
	b["active"] = true
	b["phoneNumbers"] = []any{map[string]any{"type": "mobile", "value": "+14155550101"}, map[string]any{"type": "work", "value": "+14155550102"}}
	b["addresses"] = []any{map[string]any{"type": "work", "streetAddress": "1 Main St", "locality": "Belmont",
		"region": "CA", "postalCode": "94002", "country": "United States"}}
	b[scim.EnterpriseUserSchema] = map[string]any{"department": "Sales"}
}

func TestPatchTheEntraPaths(t *testing.T) {
	tests := []struct {
		name  string
		ops   []map[string]any
		check func(t *testing.T, r reply)
	}{
		{"replace active false", []map[string]any{op("replace", "active", false)}, func(t *testing.T, r reply) {
			if r.body["active"] != false {
				t.Errorf("active %v", r.body["active"])
			}
		}},
		{"replace active string False", []map[string]any{op("Replace", "active", "False")}, func(t *testing.T, r reply) {
			if r.body["active"] != false {
				t.Errorf("active %v", r.body["active"])
			}
		}},
		{"remove active", []map[string]any{op("remove", "active", nil)}, func(t *testing.T, r reply) {
			if r.body["active"] != false {
				t.Errorf("active %v", r.body["active"])
			}
		}},
		{"userName and email move together", []map[string]any{op("replace", "userName", "new@example.com")}, func(t *testing.T, r reply) {
			emails := r.body["emails"].([]any)
			if r.str("userName") != "new@example.com" || emails[0].(map[string]any)["value"] != "new@example.com" {
				t.Errorf("userName %q emails %v", r.str("userName"), emails)
			}
		}},
		{"work email value", []map[string]any{op("replace", `emails[type eq "work"].value`, "mail@example.com")}, func(t *testing.T, r reply) {
			if r.str("userName") != "mail@example.com" {
				t.Errorf("userName %q", r.str("userName"))
			}
		}},
		{"names", []map[string]any{op("replace", "name.givenName", "Ann"), op("add", "name.familyName", "Lee")}, func(t *testing.T, r reply) {
			n := r.body["name"].(map[string]any)
			if n["givenName"] != "Ann" || n["familyName"] != "Lee" {
				t.Errorf("name %v", n)
			}
		}},
		{"externalId and title", []map[string]any{op("replace", "externalId", "x2"), op("replace", "title", "Lead")}, func(t *testing.T, r reply) {
			if r.str("externalId") != "x2" || r.str("title") != "Lead" {
				t.Errorf("%s", r.raw)
			}
		}},
		{"remove title and externalId", []map[string]any{op("remove", "title", nil), op("remove", "externalId", nil)}, func(t *testing.T, r reply) {
			if _, ok := r.body["title"]; ok {
				t.Errorf("title kept: %s", r.raw)
			}
			if _, ok := r.body["externalId"]; ok {
				t.Errorf("externalId kept: %s", r.raw)
			}
		}},
		{"address parts", []map[string]any{
			op("replace", `addresses[type eq "work"].locality`, "Austin"),
			op("replace", `addresses[type eq "work"].region`, "TX"),
			op("replace", `addresses[type eq "work"].country`, "US"),
		}, func(t *testing.T, r reply) {
			a := firstAddress(r.body)
			if a["locality"] != "Austin" || a["region"] != "TX" || a["country"] != "United States" || a["streetAddress"] != "1 Main St" {
				t.Errorf("address %v", a)
			}
		}},
		{"remove every address part", []map[string]any{
			op("remove", `addresses[type eq "work"].streetAddress`, nil), op("remove", `addresses[type eq "work"].locality`, nil),
			op("remove", `addresses[type eq "work"].region`, nil), op("remove", `addresses[type eq "work"].postalCode`, nil),
			op("remove", `addresses[type eq "work"].country`, nil),
		}, func(t *testing.T, r reply) {
			if a := firstAddress(r.body); a != nil {
				t.Errorf("address %v, want none", a)
			}
		}},
		{"mobile", []map[string]any{op("replace", `phoneNumbers[type eq "mobile"].value`, "+14155550199")}, func(t *testing.T, r reply) {
			if p := phones(r.body); p["mobile"] != "+14155550199" || p["work"] != "+14155550102" || p["other"] == "" {
				t.Errorf("phones %v", p)
			}
		}},
		{"remove mobile", []map[string]any{op("remove", `phoneNumbers[type eq "mobile"].value`, nil)}, func(t *testing.T, r reply) {
			if p := phones(r.body); p["mobile"] != "" || p["other"] == "" {
				t.Errorf("phones %v", p)
			}
		}},
		{"department", []map[string]any{op("replace", scim.EnterpriseUserSchema+":department", "Support")}, func(t *testing.T, r reply) {
			if e := r.body[scim.EnterpriseUserSchema].(map[string]any); e["department"] != "Support" {
				t.Errorf("enterprise %v", e)
			}
		}},
		{"remove department", []map[string]any{op("remove", scim.EnterpriseUserSchema+":department", nil)}, func(t *testing.T, r reply) {
			if _, ok := r.body[scim.EnterpriseUserSchema]; ok {
				t.Errorf("enterprise kept: %s", r.raw)
			}
		}},
		{"attribute names without case", []map[string]any{op("replace", "NAME.GIVENNAME", "Zed"), op("replace", `Addresses[Type EQ "work"].Locality`, "Reno")}, func(t *testing.T, r reply) {
			if r.body["name"].(map[string]any)["givenName"] != "Zed" || firstAddress(r.body)["locality"] != "Reno" {
				t.Errorf("%s", r.raw)
			}
		}},
	}
	c := newClient(t, WithoutRateLimits())
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := c.create("p"+string(rune('a'+i))+"@example.com", fullUser).str("id")
			r := c.do(http.MethodPatch, "/Users/"+id, patchBody(tt.ops...)).want(t, http.StatusOK)
			tt.check(t, r)
			if got := c.do(http.MethodGet, "/Users/"+id, nil); string(got.raw) != string(r.raw) {
				t.Errorf("GET after PATCH differs from the PATCH answer:\n%s\n%s", got.raw, r.raw)
			}
		})
	}
}

func TestPatchRefusesWhatRingCentralDocumentsNot(t *testing.T) {
	tests := []struct {
		name     string
		body     any
		status   int
		scimType scim.ScimType
	}{
		{"object value", patchBody(op("replace", "name", map[string]any{"givenName": "A"})), 400, scim.InvalidValue},
		{"no path", patchBody(op("replace", "", map[string]any{"active": false})), 400, scim.InvalidValue},
		{"array value", patchBody(op("add", "phoneNumbers", []any{map[string]any{"type": "mobile", "value": "1"}})), 400, scim.InvalidValue},
		{"number value", patchBody(op("replace", "title", 5)), 400, scim.InvalidValue},
		{"object on a string path", patchBody(op("replace", "title", map[string]any{"value": "x"})), 400, scim.InvalidValue},
		{"active not boolean", patchBody(op("replace", "active", "yes")), 400, scim.InvalidValue},
		{"missing value", patchBody(op("replace", "title", nil)), 400, scim.InvalidValue},
		{"remove without path", patchBody(op("remove", "", nil)), 400, scim.NoTarget},
		{"remove userName", patchBody(op("remove", "userName", nil)), 400, scim.InvalidValue},
		{"remove givenName", patchBody(op("remove", "name.givenName", nil)), 400, scim.InvalidValue},
		{"empty familyName", patchBody(op("replace", "name.familyName", "")), 400, scim.InvalidValue},
		{"unknown path", patchBody(op("replace", "displayName", "x")), 400, scim.InvalidPath},
		{"home email", patchBody(op("replace", `emails[type eq "home"].value`, "x@example.com")), 400, scim.InvalidPath},
		{"emails.value", patchBody(op("replace", `emails.value`, "x@example.com")), 400, scim.InvalidPath},
		{"extension number", patchBody(op("replace", `phoneNumbers[type eq "other"].value`, "555")), 400, scim.Mutability},
		{"bad value filter", patchBody(op("replace", `addresses[type co "w"].locality`, "x")), 400, scim.InvalidPath},
		{"unclosed bracket", patchBody(op("replace", `addresses[type eq "work".locality`, "x")), 400, scim.InvalidPath},
		{"enterprise manager", patchBody(op("replace", scim.EnterpriseUserSchema+":manager", "x")), 400, scim.InvalidPath},
		{"invalid region", patchBody(op("replace", `addresses[type eq "work"].region`, "Ontario")), 400, scim.InvalidValue},
		{"bad op", patchBody(op("move", "title", "x")), 400, scim.InvalidSyntax},
		{"no operations", map[string]any{"schemas": []any{scim.PatchOpSchema}}, 400, scim.InvalidSyntax},
		{"operations not objects", map[string]any{"Operations": []any{"x"}}, 400, scim.InvalidSyntax},
		{"path not a string", map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": 1, "value": "x"}}}, 400, scim.InvalidPath},
		{"not json", "{", 400, scim.InvalidSyntax},
	}
	c := newClient(t, WithoutRateLimits())
	created := c.create("keep@example.com", fullUser)
	id := created.str("id")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.do(http.MethodPatch, "/Users/"+id, tt.body).wantSCIMError(t, tt.status, tt.scimType)
		})
	}
	// All or nothing: a refused operation after a good one changes nothing.
	c.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "title", "Changed"), op("replace", "title", 1))).wantSCIMError(t, 400, scim.InvalidValue)
	if got := c.do(http.MethodGet, "/Users/"+id, nil); string(got.raw) != string(created.raw) {
		t.Errorf("refused PATCHes changed the user:\n%s\n%s", got.raw, created.raw)
	}
	c.do(http.MethodPatch, "/Users/1", patchBody(op("replace", "title", "x"))).wantSCIMError(t, http.StatusNotFound, "")
	c.create("taken@example.com")
	c.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "userName", "taken@example.com"))).wantSCIMError(t, http.StatusConflict, scim.Uniqueness)
}

func TestBooleanActiveOnly(t *testing.T) {
	c := newClient(t, WithoutRateLimits(), WithBooleanActiveOnly())
	id := c.create("b@example.com").str("id")
	c.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "active", "true"))).wantSCIMError(t, 400, scim.InvalidValue)
	r := c.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "active", true))).want(t, http.StatusOK)
	if r.body["active"] != true {
		t.Errorf("active %v", r.body["active"])
	}
}

func TestPolymorphicPatch(t *testing.T) {
	c := newClient(t, WithoutRateLimits(), WithPolymorphicPatch())
	id := c.create("poly@example.com", fullUser).str("id")
	r := c.do(http.MethodPatch, "/Users/"+id, patchBody(
		op("replace", "", map[string]any{"active": false, "title": "Chief", "displayName": "ignored",
			"name": map[string]any{"givenName": "Pat"}}),
		op("replace", `addresses[type eq "work"]`, map[string]any{"type": "work", "locality": "Denver", "region": "CO", "country": "US"}),
		op("replace", "phoneNumbers", []any{map[string]any{"type": "mobile", "value": "+13035550100"}}),
		op("add", scim.EnterpriseUserSchema, map[string]any{"department": "Ops"}),
	)).want(t, http.StatusOK)
	if r.body["active"] != false || r.str("title") != "Chief" || r.body["name"].(map[string]any)["givenName"] != "Pat" {
		t.Errorf("no-path op: %s", r.raw)
	}
	if a := firstAddress(r.body); a["locality"] != "Denver" || a["streetAddress"] != nil || a["country"] != "United States" {
		t.Errorf("address replaced by object: %v", a)
	}
	if p := phones(r.body); p["mobile"] != "+13035550100" || p["work"] != "" || p["other"] == "" {
		t.Errorf("phones replaced by array: %v", p)
	}
	if e := r.body[scim.EnterpriseUserSchema].(map[string]any); e["department"] != "Ops" {
		t.Errorf("enterprise %v", e)
	}
	r = c.do(http.MethodPatch, "/Users/"+id, patchBody(op("remove", "addresses", nil), op("remove", "phoneNumbers", nil))).want(t, http.StatusOK)
	if firstAddress(r.body) != nil || phones(r.body)["mobile"] != "" || phones(r.body)["other"] == "" {
		t.Errorf("remove containers: %s", r.raw)
	}
	c.do(http.MethodPatch, "/Users/"+id, patchBody(op("remove", "name", nil))).wantSCIMError(t, 400, scim.InvalidValue)
	c.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "", "x"))).wantSCIMError(t, 400, scim.InvalidValue)
	r = c.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "emails", []any{map[string]any{"type": "work", "value": "poly2@example.com"}}))).want(t, http.StatusOK)
	if r.str("userName") != "poly2@example.com" {
		t.Errorf("emails array: %s", r.raw)
	}
}

// FuzzPatch checks that any PATCH body either applies or is refused with a
// 400, 409 SCIM error, and that a refused one changes nothing.
func FuzzPatch(f *testing.F) {
	seeds := []any{
		patchBody(op("replace", "active", false)),
		patchBody(op("replace", `addresses[type eq "work"].region`, "NY")),
		patchBody(op("add", `phoneNumbers[type eq "mobile"].value`, "1")),
		patchBody(op("remove", scim.EnterpriseUserSchema+":department", nil)),
		patchBody(op("replace", "", map[string]any{"name": map[string]any{"givenName": "x"}})),
		patchBody(op("replace", "emails", []any{map[string]any{"type": "work", "value": "x@example.com"}})),
	}
	for _, s := range seeds {
		data, _ := json.Marshal(s)
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, poly bool) {
		if len(body) > 4096 {
			return
		}
		opts := []Option{WithoutRateLimits()}
		if poly {
			opts = append(opts, WithPolymorphicPatch())
		}
		s := New(opts...)
		u, err := s.parseUser(newUser("fuzz@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.insert(u)
		s.mu.Unlock()
		before, _ := json.Marshal(render(u, false))
		rec := &buffer{header: http.Header{}}
		err = s.patchUser(&call{w: rec, r: &http.Request{Header: http.Header{}}, body: body, arg: u.idString()})
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.kind != kindSCIM || (ae.status != 400 && ae.status != 409) {
				t.Fatalf("PATCH %s: %v, want a 400 or 409 SCIM error", body, err)
			}
			s.mu.Lock()
			after := s.lookup(u.idString())
			s.mu.Unlock()
			now, _ := json.Marshal(render(after, false))
			if after != u || string(now) != string(before) {
				t.Fatalf("a refused PATCH %s changed the user", body)
			}
			return
		}
		if rec.status != http.StatusOK {
			t.Fatalf("PATCH %s answered %d", body, rec.status)
		}
	})
}
