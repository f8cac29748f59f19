package adaptertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// bulk runs a Bulk request given as the JSON array of its Operations.
func (x *target) bulk(failOnErrors int, operations string) *scim.BulkResponse {
	x.t.Helper()
	resp, err := x.e.Bulk(x.t.Context(), bulkRequest(x.t, failOnErrors, operations))
	if err != nil {
		x.t.Fatalf("Bulk: %v", err)
	}
	return resp
}

func bulkRequest(t *testing.T, failOnErrors int, operations string) scim.BulkRequest {
	t.Helper()
	req := scim.BulkRequest{Schemas: []string{scim.BulkRequestSchema}, FailOnErrors: failOnErrors}
	if err := json.Unmarshal([]byte(operations), &req.Operations); err != nil {
		t.Fatalf("bad test JSON %s: %v", operations, err)
	}
	return req
}

// statuses returns the status of every operation in the response, in order.
func statuses(resp *scim.BulkResponse) []string {
	out := make([]string, len(resp.Operations))
	for i, op := range resp.Operations {
		out[i] = op.Status
	}
	return out
}

// opFor returns the response operation with the given bulkId, or fails.
func opFor(t *testing.T, resp *scim.BulkResponse, bulkID string) scim.BulkOperation {
	t.Helper()
	for _, op := range resp.Operations {
		if op.BulkID == bulkID {
			return op
		}
	}
	t.Fatalf("no response operation with bulkId %q in %+v", bulkID, resp.Operations)
	return scim.BulkOperation{}
}

// idFromLocation returns the id at the end of a relative location
// "/Users/{id}", failing when the location does not name endpoint.
func idFromLocation(t *testing.T, loc, endpoint string) string {
	t.Helper()
	id, ok := strings.CutPrefix(loc, endpoint+"/")
	if !ok || id == "" || strings.Contains(id, "/") {
		t.Fatalf("location %q, want %s/{id}", loc, endpoint)
	}
	return id
}

// errorStatus returns the status and scimType of the SCIM Error in an
// operation's response.
func errorStatus(t *testing.T, op scim.BulkOperation) (string, scim.ScimType) {
	t.Helper()
	b, err := json.Marshal(op.Response)
	if err != nil {
		t.Fatalf("marshal response: %v", err)
	}
	var e struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType"`
		Detail   string   `json:"detail"`
	}
	if err := json.Unmarshal(b, &e); err != nil || len(e.Schemas) != 1 || e.Schemas[0] != scim.ErrorSchema || e.Detail == "" {
		t.Errorf("operation %s %s response %s, want a SCIM Error with a detail (RFC 7644 §3.7.3)", op.Method, op.Path, b)
	}
	if e.Status != op.Status {
		t.Errorf("operation response status %q, operation status %q: want equal", e.Status, op.Status)
	}
	return e.Status, scim.ScimType(e.ScimType)
}

func testBulkReferences(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	dn := x.alt("displayName")
	resp := x.bulk(0, fmt.Sprintf(`[
		{"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": %[3]s},
		{"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
		 "data": {"schemas": [%[1]q], "displayName": "Tour Guides",
		          "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
		{"method": "PATCH", "path": "/Users/bulkId:qwerty",
		 "data": {"schemas": [%[2]q], "Operations": [{"op": "replace", "path": %[4]q, "value": "Alice W"}]}},
		{"method": "PUT", "path": "/Groups/bulkId:ytrewq",
		 "data": {"schemas": [%[1]q], "displayName": "Guides", "members": [{"value": "bulkId:qwerty"}]}}
	]`, scim.GroupSchema, scim.PatchOpSchema, x.userJSON("Alice", ""), dn))
	if got := fmt.Sprint(statuses(resp)); got != "[201 201 200 200]" {
		t.Fatalf("statuses = %s, want [201 201 200 200]; %+v", got, resp.Operations)
	}
	if len(resp.Schemas) != 1 || resp.Schemas[0] != scim.BulkResponseSchema {
		t.Errorf("schemas = %v, want [%s]", resp.Schemas, scim.BulkResponseSchema)
	}
	user, group := opFor(t, resp, "qwerty"), opFor(t, resp, "ytrewq")
	if user.Method != "POST" || user.Version == "" {
		t.Errorf("user operation = %+v, want method POST and a version", user)
	}
	uid := idFromLocation(t, user.Location, "/Users")
	gid := idFromLocation(t, group.Location, "/Groups")
	if loc := resp.Operations[2].Location; loc != "/Users/"+uid {
		t.Errorf("PATCH location = %q, want /Users/%s", loc, uid)
	}
	g := x.get(x.groups, gid)
	if str(g, "displayName") != "Guides" || !equal(values(g, "members", "value"), []string{uid}) {
		t.Errorf("group = %v, want Guides with member %s", g, uid)
	}
	u := x.get(x.users, uid)
	if str(u, dn) != "Alice W" || !equal(values(u, "groups", "value"), []string{gid}) {
		t.Errorf("user = %v, want %s Alice W in group %s", u, dn, gid)
	}
	if resp.Operations[3].Version != g.Version() {
		t.Errorf("PUT version = %q, want the group's %q", resp.Operations[3].Version, g.Version())
	}
}

func testBulkForwardReference(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	// The group comes first but needs the user: the user is created first
	// (RFC 7644 §3.7.2), and the response keeps the request order.
	resp := x.bulk(0, fmt.Sprintf(`[
		{"method": "POST", "path": "/Groups", "bulkId": "g",
		 "data": {"schemas": [%[1]q], "displayName": "Early", "members": [{"value": "bulkId:u"}]}},
		{"method": "POST", "path": "/Users", "bulkId": "u", "data": %[2]s}
	]`, scim.GroupSchema, x.userJSON("late", "")))
	if got := fmt.Sprint(statuses(resp)); got != "[201 201]" {
		t.Fatalf("statuses = %s, want [201 201]; %+v", got, resp.Operations)
	}
	if resp.Operations[0].BulkID != "g" || resp.Operations[1].BulkID != "u" {
		t.Errorf("response order = %s, %s; want g, u", resp.Operations[0].BulkID, resp.Operations[1].BulkID)
	}
	uid := idFromLocation(t, opFor(t, resp, "u").Location, "/Users")
	g := x.get(x.groups, idFromLocation(t, opFor(t, resp, "g").Location, "/Groups"))
	if !equal(values(g, "members", "value"), []string{uid}) {
		t.Errorf("members = %v, want [%s]", g["members"], uid)
	}
}

func testBulkCircular(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.needGroups()
	// RFC 7644 §3.7.1: a service provider may answer a circular reference
	// with 409 instead of resolving it; this gateway does.
	resp := x.bulk(0, fmt.Sprintf(`[
		{"method": "POST", "path": "/Groups", "bulkId": "a",
		 "data": {"schemas": [%[1]q], "displayName": "A", "members": [{"value": "bulkId:b"}]}},
		{"method": "POST", "path": "/Groups", "bulkId": "b",
		 "data": {"schemas": [%[1]q], "displayName": "B", "members": [{"value": "bulkId:a"}]}},
		{"method": "POST", "path": "/Groups", "bulkId": "self",
		 "data": {"schemas": [%[1]q], "displayName": "Self", "members": [{"value": "bulkId:self"}]}},
		{"method": "POST", "path": "/Groups", "bulkId": "fine",
		 "data": {"schemas": [%[1]q], "displayName": "Fine"}}
	]`, scim.GroupSchema))
	if got := fmt.Sprint(statuses(resp)); got != "[409 409 409 201]" {
		t.Fatalf("statuses = %s, want [409 409 409 201]; %+v", got, resp.Operations)
	}
	for _, op := range resp.Operations[:3] {
		if st, _ := errorStatus(t, op); st != "409" {
			t.Errorf("%s: error status %s", op.BulkID, st)
		}
		if op.Location != "" {
			t.Errorf("failed POST %s has location %q", op.BulkID, op.Location)
		}
	}
	if got := x.names(x.all(x.groups), "displayName"); !equal(got, []string{"Fine"}) {
		t.Errorf("groups = %v, want [Fine] only", got)
	}
}

func testBulkUnknownReference(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	dn := x.alt("displayName")
	nn := x.alt("nickName", dn)
	resp := x.bulk(0, fmt.Sprintf(`[
		{"method": "POST", "path": "/Users", "bulkId": "bad", "data": %[3]s},
		{"method": "PATCH", "path": "/Users/bulkId:bad",
		 "data": {"schemas": [%[2]q], "Operations": [{"op": "replace", "path": %[5]q, "value": "x"}]}},
		{"method": "PATCH", "path": "/Users/bulkId:nowhere",
		 "data": {"schemas": [%[2]q], "Operations": [{"op": "replace", "path": %[5]q, "value": "x"}]}},
		{"method": "POST", "path": "/Users", "bulkId": "ok", "data": %[4]s}
	]`, scim.UserSchema, scim.PatchOpSchema,
		x.fill(fmt.Sprintf(`{"schemas": [%q], %q: "no userName"}`, scim.UserSchema, dn)),
		x.userJSON("ok", fmt.Sprintf(`%q: "bulkId:nowhere"`, nn)), dn))
	if got := fmt.Sprint(statuses(resp)); got != "[400 409 400 400]" {
		t.Fatalf("statuses = %s, want [400 409 400 400]; %+v", got, resp.Operations)
	}
	// A reference to an operation that failed cannot be resolved: 409, as
	// for the circular references of RFC 7644 §3.7.1.
	if _, st := errorStatus(t, resp.Operations[1]); st != "" {
		t.Errorf("reference to a failed POST: scimType %q, want none", st)
	}
	// A bulkId no operation declares is a client error in the request.
	for _, op := range resp.Operations[2:] {
		if _, st := errorStatus(t, op); st != scim.InvalidValue {
			t.Errorf("%s %s: scimType %q, want invalidValue", op.Method, op.Path, st)
		}
	}
	if n := len(x.all(x.users)); n != 0 {
		t.Errorf("%d users created, want 0", n)
	}
}

func testBulkFailOnErrors(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	x.user("taken", "")
	resp := x.bulk(2, fmt.Sprintf(`[
		{"method": "POST", "path": "/Users", "bulkId": "1", "data": %[1]s},
		{"method": "POST", "path": "/Users", "bulkId": "2", "data": %[2]s},
		{"method": "POST", "path": "/Users", "bulkId": "3", "data": %[3]s},
		{"method": "DELETE", "path": "/Users/does-not-exist"},
		{"method": "POST", "path": "/Users", "bulkId": "5", "data": %[4]s}
	]`, x.userJSON("first", ""), x.userJSON("taken", ""), x.userJSON("third", ""), x.userJSON("never", "")))
	// RFC 7644 §3.7.3: after failOnErrors errors the rest is not performed.
	if got := fmt.Sprint(statuses(resp)); got != "[201 409 201 404]" {
		t.Fatalf("statuses = %s, want [201 409 201 404]; %+v", got, resp.Operations)
	}
	if st, typ := errorStatus(t, resp.Operations[1]); st != "409" || typ != scim.Uniqueness {
		t.Errorf("duplicate userName: %s %s, want 409 uniqueness", st, typ)
	}
	if loc := resp.Operations[3].Location; loc != "/Users/does-not-exist" {
		t.Errorf("failed DELETE location = %q, want /Users/does-not-exist", loc)
	}
	if got := x.names(x.all(x.users), "userName"); !equal(got, []string{"first", "taken", "third"}) {
		t.Errorf("users = %v, want [first taken third]", got)
	}
}

func testBulkContinues(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("victim", "")
	ti := x.alt("title")
	nn := x.alt("nickName", ti)
	resp := x.bulk(0, fmt.Sprintf(`[
		{"method": "POST", "path": "/Users", "data": %[1]s},
		{"method": "GET", "path": "/Users/%[2]s"},
		{"method": "POST", "path": "/Nowhere", "bulkId": "n", "data": {}},
		{"method": "PUT", "path": "/Users", "data": %[4]s},
		{"method": "PUT", "path": "/Users/%[2]s", "data": %[5]s},
		{"method": "patch", "path": "/Users/%[2]s",
		 "data": {"schemas": [%[3]q], "Operations": [{"op": "add", "path": %[6]q, "value": "V"}]}},
		{"method": "DELETE", "path": "/Users/%[2]s"},
		{"method": "DELETE", "path": "/Users/%[2]s"}
	]`, x.userJSON("no-bulk-id", ""), u.ID(), scim.PatchOpSchema, x.userJSON("x", ""),
		x.userJSON("victim", fmt.Sprintf(`%q: "T"`, ti)), nn))
	if got := fmt.Sprint(statuses(resp)); got != "[400 400 404 400 200 200 204 404]" {
		t.Fatalf("statuses = %s, want [400 400 404 400 200 200 204 404]; %+v", got, resp.Operations)
	}
	for _, i := range []int{0, 1, 3} {
		if _, st := errorStatus(t, resp.Operations[i]); st != scim.InvalidSyntax {
			t.Errorf("operation %d: scimType %q, want invalidSyntax", i, st)
		}
	}
	if resp.Operations[5].Method != "PATCH" {
		t.Errorf("method echoed as %q, want PATCH", resp.Operations[5].Method)
	}
	if n := len(x.all(x.users)); n != 0 {
		t.Errorf("%d users left, want 0", n)
	}
}

func testBulkMaxOperations(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{BulkMaxOperations: 2})
	if got := x.e.Options().BulkMaxOperations; got != 2 {
		t.Errorf("Options().BulkMaxOperations = %d, want 2", got)
	}
	post := func(i int) string {
		return fmt.Sprintf(`{"method": "POST", "path": "/Users", "bulkId": "%d", "data": %s}`,
			i, x.userJSON(fmt.Sprintf("u%d", i), ""))
	}
	three := "[" + post(1) + "," + post(2) + "," + post(3) + "]"
	_, err := x.e.Bulk(t.Context(), bulkRequest(t, 0, three))
	// RFC 7644 §3.7.4: too many operations is a 413 for the whole request.
	wantError(t, "Bulk of 3 with maxOperations 2", err, http.StatusRequestEntityTooLarge, "")
	if err != nil && !strings.Contains(scim.AsError(err).Detail, "2") {
		t.Errorf("413 detail %q does not name the limit", scim.AsError(err).Detail)
	}
	if n := len(x.all(x.users)); n != 0 {
		t.Errorf("%d users created by a refused Bulk, want 0", n)
	}
	two := "[" + post(1) + "," + post(2) + "]"
	if got := fmt.Sprint(statuses(x.bulk(0, two))); got != "[201 201]" {
		t.Errorf("Bulk of 2: %s, want [201 201]", got)
	}
}

func testBulkVersion(t *testing.T, a adapters.Adapter, o Options) {
	x := newTarget(t, a, o, engine.Options{})
	u := x.user("versioned", "")
	ti := x.alt("title")
	nn := x.alt("nickName", ti)
	stale := u.Version()
	cur := x.mustPatch(x.users, u.ID(), fmt.Sprintf(`[{"op": "add", "path": %q, "value": "T"}]`, ti)).Version()
	resp := x.bulk(0, fmt.Sprintf(`[
		{"method": "PUT", "path": "/Users/%[2]s", "version": %[3]q, "data": %[1]s},
		{"method": "DELETE", "path": "/Users/%[2]s", "version": %[3]q},
		{"method": "PATCH", "path": "/Users/%[2]s", "version": %[4]q,
		 "data": {"schemas": [%[5]q], "Operations": [{"op": "add", "path": %[6]q, "value": "N"}]}}
	]`, x.userJSON("versioned", ""), u.ID(), stale, cur, scim.PatchOpSchema, nn))
	if got := fmt.Sprint(statuses(resp)); got != "[412 412 200]" {
		t.Fatalf("statuses = %s, want [412 412 200]; %+v", got, resp.Operations)
	}
	got := x.get(x.users, u.ID())
	if resp.Operations[2].Version != got.Version() || got.Version() == cur {
		t.Errorf("PATCH version %q, resource version %q (was %q): want the new version", resp.Operations[2].Version, got.Version(), cur)
	}
}
