package webextest

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreateUserAnswersTheDocumentedShape(t *testing.T) {
	c := newClient(t)
	body := user("a.b@example.com")
	body["name"] = map[string]any{"givenName": "A", "familyName": "B"}
	body["emails"] = []any{map[string]any{"value": "a@home.example", "type": "home"}}
	body["urn:example:unknown:2.0:User"] = map[string]any{"x": "y"} // unknown schema: ignored
	body["id"] = "client-chosen"                                    // read-only: ignored
	body["firstAdmin"] = true                                       // unknown attribute: ignored
	body[webex.UserExtension] = map[string]any{"accountStatus": "active"}
	r := c.do(http.MethodPost, "/Users", body).want(t, http.StatusCreated)

	id, _ := r.body["id"].(string)
	if !uuidPattern.MatchString(id) {
		t.Errorf("id %q is not a UUID", id)
	}
	if got := r.header.Get("Location"); got != "https://webexapis.com/identity/scim/"+c.srv.OrgID()+"/v2/Users/"+id {
		t.Errorf("Location %q", got)
	}
	wantSchemas := []any{scim.UserSchema, webex.UserExtension, scim.EnterpriseUserSchema}
	if !slices.Equal(r.body["schemas"].([]any), wantSchemas) {
		t.Errorf("schemas %v, want %v", r.body["schemas"], wantSchemas)
	}
	meta := r.body["meta"].(map[string]any)
	if meta["resourceType"] != "User" || meta["location"] != r.header.Get("Location") {
		t.Errorf("meta %v", meta)
	}
	if v, _ := meta["version"].(string); !regexp.MustCompile(`^W/"\d+"$`).MatchString(v) {
		t.Errorf("meta.version %q, want W/\"<digits>\"", v)
	}
	emails := r.body["emails"].([]any)
	if len(emails) != 2 {
		t.Fatalf("emails %v: want the home email and the added work email", emails)
	}
	work := emails[1].(map[string]any)
	if work["value"] != "a.b@example.com" || work["type"] != "work" || work["primary"] != true {
		t.Errorf("added email %v, want the userName as primary work email", work)
	}
	ext := r.body[webex.UserExtension].(map[string]any)
	if st, _ := ext["accountStatus"].([]any); len(st) != 1 || st[0] != "active" {
		t.Errorf("accountStatus %v, want [\"active\"]", ext["accountStatus"])
	}
	if m, _ := ext["meta"].(map[string]any); m["organizationId"] != c.srv.OrgID() {
		t.Errorf("Cisco meta %v", ext["meta"])
	}
	if _, ok := r.body["urn:example:unknown:2.0:User"]; ok {
		t.Error("the unknown schema's attributes were kept")
	}
	if r.body["firstAdmin"] != false {
		t.Errorf("firstAdmin %v, want false", r.body["firstAdmin"])
	}
	if c.srv.Count("User") != 1 {
		t.Errorf("Count = %d", c.srv.Count("User"))
	}
}

func TestCreateUserRules(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(map[string]any)
		status   int
		scimType scim.ScimType
	}{
		{"no core schema", func(b map[string]any) { b["schemas"] = []any{webex.UserExtension} }, 400, scim.InvalidSyntax},
		{"no schemas", func(b map[string]any) { delete(b, "schemas") }, 400, scim.InvalidSyntax},
		{"no userName", func(b map[string]any) { delete(b, "userName") }, 400, scim.InvalidValue},
		{"no userType", func(b map[string]any) { delete(b, "userType") }, 400, scim.InvalidValue},
		{"bad userType", func(b map[string]any) { b["userType"] = "robot" }, 400, scim.InvalidValue},
		{"userName not an email", func(b map[string]any) { b["userName"] = "jdoe" }, 400, scim.InvalidValue},
		{"work primary email differs", func(b map[string]any) {
			b["emails"] = []any{map[string]any{"value": "other@example.com", "type": "work", "primary": true}}
		}, 400, scim.InvalidValue},
		{"unknown manager", func(b map[string]any) {
			b[scim.EnterpriseUserSchema] = map[string]any{"manager": map[string]any{"value": "3426a8e3-d414-4bf0-a493-4f6787632a13"}}
		}, 400, scim.InvalidValue},
		{"wrong type", func(b map[string]any) { b["active"] = 3 }, 400, scim.InvalidValue},
		{"room user", func(b map[string]any) { b["userType"] = "room" }, 201, ""},
		{"matching work email", func(b map[string]any) {
			b["emails"] = []any{map[string]any{"value": "X@Example.com", "type": "work", "primary": true}}
		}, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t)
			b := user("x@example.com")
			tt.edit(b)
			r := c.do(http.MethodPost, "/Users", b)
			if tt.status == http.StatusCreated {
				r.want(t, http.StatusCreated)
				return
			}
			r.wantSCIMError(t, tt.status, tt.scimType)
			if c.srv.Count("User") != 0 {
				t.Error("a refused user was stored")
			}
		})
	}
}

func TestDuplicateUserNameIsConflict(t *testing.T) {
	c := newClient(t)
	c.create("/Users", user("dup@example.com"))
	c.do(http.MethodPost, "/Users", user("DUP@example.com")).wantSCIMError(t, http.StatusConflict, scim.Uniqueness)
	if n := c.srv.Count("User"); n != 1 {
		t.Fatalf("Count = %d, want 1", n)
	}
	other := c.create("/Users", user("other@example.com"))
	b := user("dup@example.com")
	c.do(http.MethodPut, "/Users/"+other, b).wantSCIMError(t, http.StatusConflict, scim.Uniqueness)
}

func TestGetPutPatchDeleteUser(t *testing.T) {
	c := newClient(t)
	b := user("p@example.com")
	b["title"] = "Mr."
	b["displayName"] = "P"
	b["phoneNumbers"] = []any{map[string]any{"value": "+14085550100", "type": "work"}}
	id := c.create("/Users", b)
	got := c.do(http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	created := got.body["meta"].(map[string]any)["created"]
	v1 := got.body["meta"].(map[string]any)["version"]

	// PUT replaces: title is cleared, id and created stay.
	put := user("p@example.com")
	put["displayName"] = "P2"
	put["id"] = "ignored"
	r := c.do(http.MethodPut, "/Users/"+id, put).want(t, http.StatusOK)
	if r.body["id"] != id || r.body["title"] != nil || r.body["displayName"] != "P2" {
		t.Errorf("PUT answer %s", r.raw)
	}
	meta := r.body["meta"].(map[string]any)
	if meta["created"] != created || meta["version"] == v1 {
		t.Errorf("PUT meta %v (created %v, version before %v)", meta, created, v1)
	}

	patch := map[string]any{
		"schemas": []any{scim.PatchOpSchema},
		"Operations": []any{
			map[string]any{"op": "replace", "path": "title", "value": "Dr."},
			map[string]any{"op": "add", "path": "phoneNumbers", "value": []any{map[string]any{"value": "+1", "type": "work"}}},
			map[string]any{"op": "replace", "path": `phoneNumbers[type eq "work"].value`, "value": "+14085550123"},
			map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "id_user_admin", "type": "cirole"}}},
		},
	}
	r = c.do(http.MethodPatch, "/Users/"+id, patch).want(t, http.StatusOK)
	if r.body["title"] != "Dr." {
		t.Errorf("PATCH title: %s", r.raw)
	}
	if ph := r.body["phoneNumbers"].([]any)[0].(map[string]any); ph["value"] != "+14085550123" {
		t.Errorf("PATCH phone: %v", ph)
	}

	for _, tt := range []struct {
		name     string
		ops      []any
		scimType scim.ScimType
	}{
		{"replace value path without match", []any{map[string]any{"op": "replace", "path": `phoneNumbers[type eq "fax"].value`, "value": "1"}}, scim.NoTarget},
		{"remove without path", []any{map[string]any{"op": "remove"}}, scim.NoTarget},
		{"unknown attribute", []any{map[string]any{"op": "replace", "path": "shoeSize", "value": "1"}}, scim.InvalidPath},
		{"read-only id", []any{map[string]any{"op": "replace", "path": "id", "value": "x"}}, scim.Mutability},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.do(http.MethodPatch, "/Users/"+id, map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": tt.ops}).
				wantSCIMError(t, http.StatusBadRequest, tt.scimType)
		})
	}

	c.do(http.MethodDelete, "/Users/"+id, nil).want(t, http.StatusNoContent)
	c.do(http.MethodGet, "/Users/"+id, nil).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodDelete, "/Users/"+id, nil).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodPut, "/Users/"+id, put).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodPatch, "/Users/"+id, patch).wantSCIMError(t, http.StatusNotFound, "")
}

func TestPatchUserNameCarriesTheWorkEmail(t *testing.T) {
	c := newClient(t)
	id := c.create("/Users", user("old@example.com"))
	r := c.do(http.MethodPatch, "/Users/"+id, map[string]any{
		"schemas":    []any{scim.PatchOpSchema},
		"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": "new@example.com"}},
	}).want(t, http.StatusOK)
	emails := r.body["emails"].([]any)
	if len(emails) != 1 || emails[0].(map[string]any)["value"] != "new@example.com" {
		t.Errorf("emails %v, want the work email to follow userName", emails)
	}
}

func TestManagerGetsDisplayNameAndRef(t *testing.T) {
	c := newClient(t)
	boss := user("boss@example.com")
	boss["displayName"] = "The Boss"
	bossID := c.create("/Users", boss)
	b := user("emp@example.com")
	b[scim.EnterpriseUserSchema] = map[string]any{"department": "R&D", "manager": map[string]any{"value": bossID}}
	id := c.create("/Users", b)
	r := c.do(http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	m := r.body[scim.EnterpriseUserSchema].(map[string]any)["manager"].(map[string]any)
	if m["displayName"] != "The Boss" || !strings.HasSuffix(m["$ref"].(string), "/Users/"+bossID) {
		t.Errorf("manager %v", m)
	}
}

func TestUserGroupsOnlyInSearch(t *testing.T) {
	c := newClient(t)
	id := c.create("/Users", user("g@example.com"))
	gid := c.create("/Groups", group("Sales", id))
	get := c.do(http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	if _, ok := get.body["groups"]; ok {
		t.Errorf("GET /Users/{id} carries groups: %s", get.raw)
	}
	plain := c.do(http.MethodGet, `/Users?filter=id+eq+"`+id+`"`, nil).want(t, http.StatusOK)
	if _, ok := plain.body["Resources"].([]any)[0].(map[string]any)["groups"]; ok {
		t.Error("a search without includeGroupDetails carries groups")
	}
	for _, param := range []string{"includeGroupDetails=true", "returnGroups=true"} {
		r := c.do(http.MethodGet, `/Users?filter=id+eq+"`+id+`"&`+param, nil).want(t, http.StatusOK)
		groups, _ := r.body["Resources"].([]any)[0].(map[string]any)["groups"].([]any)
		if len(groups) != 1 {
			t.Fatalf("%s: groups %v", param, groups)
		}
		g := groups[0].(map[string]any)
		if g["value"] != gid || g["display"] != "Sales" || !strings.HasSuffix(g["$ref"].(string), "/Groups/"+gid) {
			t.Errorf("%s: group %v", param, g)
		}
	}
}

func TestListUsersPaging(t *testing.T) {
	c := newClient(t, WithSeed(7), WithMaxCount(5))
	r := c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	if num(r.body["totalResults"]) != 7 || num(r.body["itemsPerPage"]) != 5 || num(r.body["startIndex"]) != 1 {
		t.Errorf("clamped page: %s", r.raw)
	}
	var all []string
	for start := 1; ; {
		r := c.do(http.MethodGet, "/Users?count=3&startIndex="+strconv.Itoa(start), nil).want(t, http.StatusOK)
		got := ids(r)
		if num(r.body["itemsPerPage"]) != len(got) {
			t.Fatalf("itemsPerPage %v, %d resources", r.body["itemsPerPage"], len(got))
		}
		all = append(all, got...)
		start += len(got)
		if start > num(r.body["totalResults"]) {
			break
		}
	}
	if len(all) != 7 {
		t.Errorf("paged %d users, want 7", len(all))
	}
	r = c.do(http.MethodGet, "/Users?count=0", nil).want(t, http.StatusOK)
	if num(r.body["totalResults"]) != 7 || len(r.body["Resources"].([]any)) != 0 {
		t.Errorf("count=0: %s", r.raw)
	}
	r = c.do(http.MethodGet, "/Users?startIndex=100", nil).want(t, http.StatusOK)
	if num(r.body["itemsPerPage"]) != 0 {
		t.Errorf("past the end: %s", r.raw)
	}
	c.do(http.MethodGet, "/Users?count=x", nil).wantSCIMError(t, http.StatusBadRequest, scim.InvalidValue)
}

func TestListUsersSortAndAttributes(t *testing.T) {
	c := newClient(t)
	for _, n := range []string{"c@example.com", "a@example.com", "b@example.com"} {
		c.create("/Users", user(n))
	}
	names := func(r reply) string {
		var out []string
		for _, res := range r.body["Resources"].([]any) {
			out = append(out, res.(map[string]any)["userName"].(string)[:1])
		}
		return strings.Join(out, "")
	}
	if got := names(c.do(http.MethodGet, "/Users?sortBy=userName", nil).want(t, 200)); got != "abc" {
		t.Errorf("ascending: %s", got)
	}
	if got := names(c.do(http.MethodGet, "/Users?sortBy=userName&sortOrder=descending", nil).want(t, 200)); got != "cba" {
		t.Errorf("descending: %s", got)
	}
	c.do(http.MethodGet, "/Users?sortBy=displayName", nil).wantSCIMError(t, 400, scim.InvalidValue)
	r := c.do(http.MethodGet, "/Users?attributes=userName", nil).want(t, 200)
	res := r.body["Resources"].([]any)[0].(map[string]any)
	if res["schemas"] == nil || res["id"] == nil || res["userName"] == nil || res["emails"] != nil || res["firstAdmin"] != false {
		t.Errorf("attributes=userName: %v", res)
	}
	r = c.do(http.MethodGet, "/Users?excludedAttributes=emails", nil).want(t, 200)
	if res := r.body["Resources"].([]any)[0].(map[string]any); res["emails"] != nil || res["userName"] == nil {
		t.Errorf("excludedAttributes=emails: %v", res)
	}
}

func TestSearchLag(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu fakeClock
	mu.set(now)
	c := newClient(t, WithSearchLag(5*time.Second), WithClock(mu.now))
	id := c.create("/Users", user("lag@example.com"))
	c.do(http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	if r := c.do(http.MethodGet, `/Users?filter=userName+eq+"lag@example.com"`, nil).want(t, 200); num(r.body["totalResults"]) != 0 {
		t.Errorf("new user visible to search at once: %s", r.raw)
	}
	mu.set(now.Add(5 * time.Second))
	if r := c.do(http.MethodGet, `/Users?filter=userName+eq+"lag@example.com"`, nil).want(t, 200); num(r.body["totalResults"]) != 1 {
		t.Errorf("user invisible after the lag: %s", r.raw)
	}
	// A change shows the old state until the lag has passed.
	c.do(http.MethodPatch, "/Users/"+id, map[string]any{"schemas": []any{scim.PatchOpSchema},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "New"}}}).want(t, 200)
	r := c.do(http.MethodGet, `/Users?filter=id+eq+"`+id+`"`, nil).want(t, 200)
	if res := r.body["Resources"].([]any)[0].(map[string]any); res["displayName"] != nil {
		t.Errorf("search shows the change at once: %v", res)
	}
	mu.set(now.Add(11 * time.Second))
	r = c.do(http.MethodGet, `/Users?filter=id+eq+"`+id+`"`, nil).want(t, 200)
	if res := r.body["Resources"].([]any)[0].(map[string]any); res["displayName"] != "New" {
		t.Errorf("search misses the change after the lag: %v", res)
	}
}

func TestUsersMe(t *testing.T) {
	c := newClient(t)
	r := c.do(http.MethodGet, "/identity/scim/v2/Users/me", nil).want(t, http.StatusOK)
	if r.body["userName"] == nil || r.body["id"] == nil {
		t.Errorf("me: %s", r.raw)
	}
}
