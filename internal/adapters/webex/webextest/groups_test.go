package webextest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestGroupCRUD(t *testing.T) {
	c := newClient(t)
	alice := user("alice@example.com")
	alice["displayName"] = "Alice"
	aid := c.create("/Users", alice)
	bid := c.create("/Users", user("bob@example.com"))

	r := c.do(http.MethodPost, "/Groups", group("Admins", aid)).want(t, http.StatusCreated)
	gid := r.body["id"].(string)
	if !uuidPattern.MatchString(gid) {
		t.Errorf("group id %q", gid)
	}
	meta := r.body["meta"].(map[string]any)
	if meta["resourceType"] != "group" || !strings.HasSuffix(meta["location"].(string), "/v2/Groups/"+gid) {
		t.Errorf("group meta %v", meta)
	}
	if ext, _ := r.body[webex.GroupExtension].(map[string]any); ext["meta"].(map[string]any)["organizationID"] != c.srv.OrgID() {
		t.Errorf("Cisco group meta %v", r.body[webex.GroupExtension])
	}
	m := r.body["members"].([]any)[0].(map[string]any)
	if m["value"] != aid || m["type"] != "user" || m["display"] != "Alice" || !strings.HasSuffix(m["$ref"].(string), "/Users/"+aid) {
		t.Errorf("member %v", m)
	}

	// A nested group, and members given with their type.
	pid := c.create("/Groups", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "Everyone",
		"members": []any{map[string]any{"value": bid, "type": "user"}, map[string]any{"value": gid, "type": "group"}}})
	got := c.do(http.MethodGet, "/Groups/"+pid, nil).want(t, 200)
	if ms := got.body["members"].([]any); len(ms) != 2 || ms[1].(map[string]any)["type"] != "group" || ms[1].(map[string]any)["display"] != "Admins" {
		t.Errorf("nested members %v", ms)
	}
	if r := c.do(http.MethodGet, "/Groups/"+pid+"?excludedAttributes=members", nil).want(t, 200); r.body["members"] != nil {
		t.Errorf("excludedAttributes=members kept members: %s", r.raw)
	}

	// PUT clears what it leaves out.
	r = c.do(http.MethodPut, "/Groups/"+gid, map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "Administrators"}).want(t, 200)
	if r.body["members"] != nil || r.body["displayName"] != "Administrators" {
		t.Errorf("PUT without members: %s", r.raw)
	}

	// PATCH adds and removes members.
	add := map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": aid, "type": "user"}, map[string]any{"value": bid}}},
	}}
	r = c.do(http.MethodPatch, "/Groups/"+gid, add).want(t, 200)
	if n := len(r.body["members"].([]any)); n != 2 {
		t.Errorf("after add: %d members", n)
	}
	remove := map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": []any{
		map[string]any{"op": "remove", "path": `members[value eq "` + aid + `"]`},
	}}
	r = c.do(http.MethodPatch, "/Groups/"+gid, remove).want(t, 200)
	if ms := r.body["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["value"] != bid {
		t.Errorf("after remove: %v", ms)
	}

	// Removing a member the group does not have is noTarget.
	c.do(http.MethodPatch, "/Groups/"+gid, remove).wantSCIMError(t, http.StatusBadRequest, scim.NoTarget)

	// Deleting a user removes it from its groups; deleting a group, from its parents.
	c.do(http.MethodDelete, "/Users/"+bid, nil).want(t, 204)
	if r := c.do(http.MethodGet, "/Groups/"+gid, nil).want(t, 200); r.body["members"] != nil {
		t.Errorf("deleted user still a member: %s", r.raw)
	}
	c.do(http.MethodDelete, "/Groups/"+gid, nil).want(t, 204)
	if r := c.do(http.MethodGet, "/Groups/"+pid, nil).want(t, 200); r.body["members"] != nil {
		t.Errorf("deleted group still a member: %s", r.raw)
	}
	c.do(http.MethodGet, "/Groups/"+gid, nil).wantSCIMError(t, 404, "")
}

func TestGroupRules(t *testing.T) {
	c := newClient(t)
	uid := c.create("/Users", user("m@example.com"))
	gid := c.create("/Groups", group("G"))
	tests := []struct {
		name     string
		body     map[string]any
		scimType scim.ScimType
	}{
		{"no core schema", map[string]any{"schemas": []any{webex.GroupExtension}, "displayName": "x"}, scim.InvalidSyntax},
		{"no displayName", map[string]any{"schemas": []any{scim.GroupSchema}}, scim.InvalidValue},
		{"unknown member", group("x", "3426a8e3-d414-4bf0-a493-4f6787632a13"), scim.InvalidValue},
		{"machine member", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "x",
			"members": []any{map[string]any{"value": uid, "type": "machine"}}}, scim.InvalidValue},
		{"wrong member type", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "x",
			"members": []any{map[string]any{"value": gid, "type": "user"}}}, scim.InvalidValue},
		{"bad member type", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "x",
			"members": []any{map[string]any{"value": uid, "type": "robot"}}}, scim.InvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.do(http.MethodPost, "/Groups", tt.body).wantSCIMError(t, 400, tt.scimType)
		})
	}
	c.do(http.MethodPatch, "/Groups/"+gid, map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": gid}}},
	}}).wantSCIMError(t, 400, scim.InvalidValue)
	if n := c.srv.Count("Group"); n != 1 {
		t.Errorf("Count(Group) = %d, want 1", n)
	}
	// Names may repeat unless WithUniqueGroupNames.
	c.create("/Groups", group("G"))
	u := newClient(t, WithUniqueGroupNames())
	u.create("/Groups", group("G"))
	u.do(http.MethodPost, "/Groups", group("g")).wantSCIMError(t, 409, scim.Uniqueness)
}

func TestGroupMembersEndpoint(t *testing.T) {
	c := newClient(t)
	var members []string
	for i := range 7 {
		members = append(members, c.create("/Users", user(fmt.Sprintf("m%d@example.com", i))))
	}
	sub := c.create("/Groups", group("Sub"))
	gid := c.create("/Groups", group("Big", append(members, sub)...))

	r := c.do(http.MethodGet, "/Groups/"+gid+"/Members", nil).want(t, 200)
	if s := r.body["schemas"].([]any); len(s) != 1 || s[0] != GroupMembersSchema {
		t.Errorf("schemas %v", s)
	}
	if r.body["displayName"] != "Big" || num(r.body["memberSize"]) != 8 || num(r.body["itemsPerPage"]) != 8 || num(r.body["startIndex"]) != 1 {
		t.Errorf("members page %s", r.raw)
	}
	if _, ok := r.body["totalResults"]; ok {
		t.Error("Members answer has totalResults; Webex uses memberSize")
	}
	var paged []string
	for start := 1; start <= 8; start += 3 {
		r := c.do(http.MethodGet, fmt.Sprintf("/Groups/%s/Members?startIndex=%d&count=3", gid, start), nil).want(t, 200)
		for _, m := range r.body["members"].([]any) {
			paged = append(paged, m.(map[string]any)["value"].(string))
		}
		if num(r.body["itemsPerPage"]) != len(r.body["members"].([]any)) {
			t.Errorf("itemsPerPage %v", r.body["itemsPerPage"])
		}
	}
	if strings.Join(paged, ",") != strings.Join(append(members, sub), ",") {
		t.Errorf("paged members %v", paged)
	}
	r = c.do(http.MethodGet, "/Groups/"+gid+"/Members?memberType=group", nil).want(t, 200)
	if num(r.body["memberSize"]) != 1 || r.body["members"].([]any)[0].(map[string]any)["value"] != sub {
		t.Errorf("memberType=group: %s", r.raw)
	}
	// An empty page has no members key at all.
	for _, q := range []string{"?startIndex=9", "?count=0"} {
		r = c.do(http.MethodGet, "/Groups/"+gid+"/Members"+q, nil).want(t, 200)
		if _, ok := r.body["members"]; ok || num(r.body["itemsPerPage"]) != 0 || num(r.body["memberSize"]) != 8 {
			t.Errorf("%s: %s", q, r.raw)
		}
	}
	r = c.do(http.MethodGet, "/Groups/"+sub+"/Members", nil).want(t, 200)
	if _, ok := r.body["members"]; ok || num(r.body["memberSize"]) != 0 {
		t.Errorf("empty group: %s", r.raw)
	}
	// count above 500 is clamped.
	if r := c.do(http.MethodGet, "/Groups/"+gid+"/Members?count=5000", nil).want(t, 200); num(r.body["itemsPerPage"]) != 8 {
		t.Errorf("count=5000: %s", r.raw)
	}
	c.do(http.MethodGet, "/Groups/"+gid+"/Members?memberType=robot", nil).wantSCIMError(t, 400, scim.InvalidValue)
	c.do(http.MethodGet, "/Groups/"+members[0]+"/Members", nil).wantSCIMError(t, 404, "")
}

func TestGroupMemberLimits(t *testing.T) {
	c := newClient(t)
	var ms []any
	for i := range MaxGroupMembers + 20 {
		b := user(fmt.Sprintf("u%04d@example.com", i))
		ops := map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprint(i), "data": b}
		ms = append(ms, ops)
	}
	var members []any
	for start := 0; start < len(ms); start += 100 {
		r := c.do(http.MethodPost, "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}, "operations": ms[start:min(start+100, len(ms))]}).want(t, 200)
		for _, op := range r.body["operations"].([]any) {
			loc := op.(map[string]any)["location"].(string)
			members = append(members, map[string]any{"value": loc[strings.LastIndexByte(loc, '/')+1:]})
		}
	}
	gid := c.create("/Groups", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "Many", "members": members})
	r := c.do(http.MethodGet, "/Groups/"+gid, nil).want(t, 200)
	if n := len(r.body["members"].([]any)); n != MaxGroupMembers {
		t.Errorf("GET /Groups/{id}: %d members, want at most %d", n, MaxGroupMembers)
	}
	r = c.do(http.MethodGet, "/Groups/"+gid+"/Members?startIndex=501", nil).want(t, 200)
	if num(r.body["memberSize"]) != MaxGroupMembers+20 || num(r.body["itemsPerPage"]) != 20 {
		t.Errorf("second page: memberSize %v itemsPerPage %v", r.body["memberSize"], r.body["itemsPerPage"])
	}
}

func TestListGroups(t *testing.T) {
	c := newClient(t)
	uid := c.create("/Users", user("lg@example.com"))
	for _, n := range []string{"b", "a", "c"} {
		c.create("/Groups", group(n, uid))
	}
	r := c.do(http.MethodGet, "/Groups", nil).want(t, 200)
	if num(r.body["totalResults"]) != 3 {
		t.Fatalf("list: %s", r.raw)
	}
	for _, g := range r.body["Resources"].([]any) {
		if g.(map[string]any)["members"] != nil {
			t.Errorf("members without includeMembers=true: %v", g)
		}
	}
	r = c.do(http.MethodGet, "/Groups?includeMembers=true&sortBy=displayName&sortOrder=descending", nil).want(t, 200)
	var names []string
	for _, g := range r.body["Resources"].([]any) {
		names = append(names, g.(map[string]any)["displayName"].(string))
		if len(g.(map[string]any)["members"].([]any)) != 1 {
			t.Errorf("includeMembers=true: %v", g)
		}
	}
	if strings.Join(names, "") != "cba" {
		t.Errorf("sorted %v", names)
	}
	r = c.do(http.MethodGet, "/Groups?includeMembers=true&memberType=group", nil).want(t, 200)
	if r.body["Resources"].([]any)[0].(map[string]any)["members"] != nil {
		t.Errorf("memberType=group kept user members: %s", r.raw)
	}
	r = c.do(http.MethodGet, `/Groups?filter=displayName+Eq+"a"+or+displayName+eq+"C"`, nil).want(t, 200)
	if num(r.body["totalResults"]) != 2 {
		t.Errorf("displayName filter: %s", r.raw)
	}
	c.do(http.MethodGet, "/Groups?sortBy=members", nil).wantSCIMError(t, 400, scim.InvalidValue)
}
