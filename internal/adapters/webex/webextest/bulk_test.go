package webextest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func bulkBody(ops ...any) map[string]any {
	return map[string]any{"schemas": []any{scim.BulkRequestSchema}, "operations": ops}
}

func bulkOps(t *testing.T, r reply) []map[string]any {
	t.Helper()
	r.want(t, http.StatusOK)
	if _, ok := r.body["Operations"]; ok {
		t.Errorf("answer uses Operations; Webex answers lower-case operations")
	}
	if s := r.body["schemas"].([]any); len(s) != 1 || s[0] != scim.BulkResponseSchema {
		t.Errorf("schemas %v", s)
	}
	var out []map[string]any
	for _, op := range r.body["operations"].([]any) {
		out = append(out, op.(map[string]any))
	}
	return out
}

func statuses(ops []map[string]any) string {
	var s []string
	for _, op := range ops {
		st, ok := op["status"].(string)
		if !ok {
			st = "not-a-string"
		}
		s = append(s, st)
	}
	return strings.Join(s, " ")
}

var userLocation = regexp.MustCompile(`.+/identity/scim/.+/v2/Users/(\S+)`) // as WX-SDK reads it

func TestBulkOperationsAndReferences(t *testing.T) {
	c := newClient(t)
	existing := c.create("/Users", user("old@example.com"))
	patchOp := map[string]any{"schemas": []any{scim.PatchOpSchema},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Renamed"}}}
	data, _ := json.Marshal(user("str@example.com"))
	ops := bulkOps(t, c.do(http.MethodPost, "/Bulk", bulkBody(
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": user("new@example.com")},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:u1", "data": patchOp},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": group("G", "bulkId:u1")},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u2", "data": string(data)}, // data as JSON text
		map[string]any{"method": "DELETE", "path": "/Users/" + existing},
		map[string]any{"method": "patch", "path": "/Groups/bulkId:g1", "data": map[string]any{"schemas": []any{scim.PatchOpSchema},
			"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "bulkId:u2"}}}}}},
	)))
	if got := statuses(ops); got != "201 200 201 201 204 200" {
		t.Fatalf("statuses %s: %v", got, ops)
	}
	m := userLocation.FindStringSubmatch(ops[0]["location"].(string))
	if m == nil || ops[0]["bulkId"] != "u1" || ops[0]["method"] != "POST" || ops[0]["version"] == nil {
		t.Fatalf("POST result %v", ops[0])
	}
	uid := m[1]
	if _, ok := ops[0]["response"]; ok {
		t.Error("a successful operation carries a response")
	}
	if !strings.HasSuffix(ops[1]["location"].(string), "/Users/"+uid) {
		t.Errorf("PATCH location %v", ops[1]["location"])
	}
	if !strings.HasSuffix(ops[4]["location"].(string), "/Users/"+existing) || ops[4]["version"] != nil {
		t.Errorf("DELETE result %v", ops[4])
	}
	if r := c.do(http.MethodGet, "/Users/"+uid, nil).want(t, 200); r.body["displayName"] != "Renamed" {
		t.Errorf("PATCH through bulkId reference: %s", r.raw)
	}
	gid := ops[2]["location"].(string)[strings.LastIndexByte(ops[2]["location"].(string), '/')+1:]
	r := c.do(http.MethodGet, "/Groups/"+gid, nil).want(t, 200)
	if ms := r.body["members"].([]any); len(ms) != 2 || ms[0].(map[string]any)["value"] != uid {
		t.Errorf("group members %v", ms)
	}
	if c.srv.Count("User") != 2 {
		t.Errorf("Count(User) = %d", c.srv.Count("User"))
	}
}

func TestBulkFailures(t *testing.T) {
	c := newClient(t)
	c.create("/Users", user("taken@example.com"))
	ops := bulkOps(t, c.do(http.MethodPost, "/Bulk", bulkBody(
		map[string]any{"method": "PUT", "path": "/Users/x", "data": user("a@example.com")},
		map[string]any{"method": "POST", "path": "/Users", "data": user("nobulkid@example.com")},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "d", "data": user("taken@example.com")},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:nope", "data": map[string]any{}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": group("G", "bulkId:later")},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "later", "data": user("later@example.com")},
		map[string]any{"method": "DELETE", "path": "/Users/3426a8e3-d414-4bf0-a493-4f6787632a13"},
		map[string]any{"method": "POST", "path": "/Things", "bulkId": "t", "data": map[string]any{}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "later", "data": user("again@example.com")},
		"not an object",
	)))
	if got := statuses(ops); got != "400 400 409 400 400 201 404 400 400 400" {
		t.Fatalf("statuses %s: %v", got, ops)
	}
	for i, want := range []scim.ScimType{scim.InvalidSyntax, scim.InvalidSyntax, scim.Uniqueness, scim.InvalidValue, scim.InvalidValue} {
		resp := ops[i]["response"].(map[string]any)
		if resp["scimType"] != string(want) || resp["status"] != ops[i]["status"] {
			t.Errorf("operation %d response %v, want scimType %s", i, resp, want)
		}
		ext, _ := resp[CiscoErrorExtension].(map[string]any)
		if ext["trackingId"] == "" || ext["errorCode"] == "" {
			t.Errorf("operation %d response lacks the Cisco extension: %v", i, resp)
		}
	}
	if ops[2]["bulkId"] != "d" || ops[2]["method"] != "POST" || ops[2]["location"] != nil {
		t.Errorf("failed POST result %v", ops[2])
	}
	if n := c.srv.Count("User"); n != 2 {
		t.Errorf("Count(User) = %d, want 2", n)
	}
}

func TestBulkLimits(t *testing.T) {
	c := newClient(t, WithMaxBulkOperations(2))
	op := func(i string) any {
		return map[string]any{"method": "POST", "path": "/Users", "bulkId": i, "data": user(i + "@example.com")}
	}
	c.do(http.MethodPost, "/Bulk", bulkBody(op("a"), op("b"), op("c"))).wantSCIMError(t, http.StatusBadRequest, scim.TooMany)
	if c.srv.Count("User") != 0 {
		t.Error("a refused Bulk request created users")
	}
	bulkOps(t, c.do(http.MethodPost, "/Bulk", bulkBody(op("a"), op("b"))))

	d := newClient(t)
	if DefaultMaxBulkOperations != 100 {
		t.Fatalf("DefaultMaxBulkOperations = %d", DefaultMaxBulkOperations)
	}
	var many []any
	for i := range 101 {
		many = append(many, map[string]any{"method": "DELETE", "path": "/Users/" + strings.Repeat("x", i+1)})
	}
	d.do(http.MethodPost, "/Bulk", bulkBody(many...)).wantSCIMError(t, http.StatusBadRequest, scim.TooMany)
	bulkOps(t, d.do(http.MethodPost, "/Bulk", bulkBody(many[:100]...)))
}

func TestBulkFailOnErrors(t *testing.T) {
	c := newClient(t)
	bad := map[string]any{"method": "DELETE", "path": "/Users/missing"}
	good := func(n string) any {
		return map[string]any{"method": "POST", "path": "/Users", "bulkId": n, "data": user(n + "@example.com")}
	}
	body := bulkBody(good("a"), bad, good("b"), bad, good("c"))
	body["failOnErrors"] = 2
	if got := statuses(bulkOps(t, c.do(http.MethodPost, "/Bulk", body))); got != "201 404 201 404" {
		t.Errorf("failOnErrors=2: %s", got)
	}
	body = bulkBody(good("d"), bad, good("e"))
	if got := statuses(bulkOps(t, c.do(http.MethodPost, "/Bulk", body))); got != "201 404 201" {
		t.Errorf("no failOnErrors: %s", got)
	}
	for _, v := range []any{0, 101, 1.5, "1"} {
		body := bulkBody(good("x"))
		body["failOnErrors"] = v
		c.do(http.MethodPost, "/Bulk", body).wantSCIMError(t, http.StatusBadRequest, scim.InvalidValue)
	}
}

func TestBulkOperationsKey(t *testing.T) {
	op := map[string]any{"method": "POST", "path": "/Users", "bulkId": "a", "data": user("a@example.com")}
	upper := map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{op}}
	c := newClient(t)
	if got := statuses(bulkOps(t, c.do(http.MethodPost, "/Bulk", upper))); got != "201" {
		t.Errorf("Operations accepted by default: %s", got)
	}
	strict := newClient(t, WithStrictBulkKey())
	strict.do(http.MethodPost, "/Bulk", upper).wantSCIMError(t, http.StatusBadRequest, scim.InvalidSyntax)
	both := map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{op}, "operations": []any{op}}
	c.do(http.MethodPost, "/Bulk", both).wantSCIMError(t, http.StatusBadRequest, scim.InvalidSyntax)
	c.do(http.MethodPost, "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}}).wantSCIMError(t, http.StatusBadRequest, scim.InvalidSyntax)
	c.do(http.MethodPost, "/Bulk", map[string]any{"schemas": []any{scim.PatchOpSchema}, "operations": []any{}}).
		wantSCIMError(t, http.StatusBadRequest, scim.InvalidSyntax)
	c.do(http.MethodPost, "/Bulk", map[string]any{"operations": map[string]any{}}).wantSCIMError(t, http.StatusBadRequest, scim.InvalidSyntax)
}
