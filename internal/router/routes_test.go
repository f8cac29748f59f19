package router_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// TestRoutes sends every route and method, and the routes that do not exist,
// and checks status, Allow and content type.
func TestRoutes(t *testing.T) {
	f := newFixture(t)
	uid, _ := f.createUser(t, memoryRoot, "bjensen")
	uid2, _ := f.createUser(t, memoryRoot, "jsmith")
	gid, _ := f.createGroup(t, memoryRoot, "Admins", uid)

	userBody := `{"schemas":["` + scim.UserSchema + `"],"userName":"bjensen","displayName":"Barbara"}`
	patchBody := `{"schemas":["` + scim.PatchOpSchema + `"],"Operations":[{"op":"replace","path":"displayName","value":"Babs"}]}`
	searchBody := `{"schemas":["` + scim.SearchRequestSchema + `"],"filter":"userName eq \"bjensen\""}`
	bulkBody := `{"schemas":["` + scim.BulkRequestSchema + `"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b1","data":{"schemas":["` + scim.UserSchema + `"],"userName":"bulky"}}]}`

	tests := []struct {
		name         string
		method, path string
		body         string
		want         int
		allow        string // the Allow header of a 405
	}{
		{"service provider config", "GET", "/ServiceProviderConfig", "", 200, ""},
		{"resource types", "GET", "/ResourceTypes", "", 200, ""},
		{"resource type", "GET", "/ResourceTypes/User", "", 200, ""},
		{"missing resource type", "GET", "/ResourceTypes/Device", "", 404, ""},
		{"schemas", "GET", "/Schemas", "", 200, ""},
		{"schema", "GET", "/Schemas/" + scim.UserSchema, "", 200, ""},
		{"missing schema", "GET", "/Schemas/urn:example:nope", "", 404, ""},
		{"list users", "GET", "/Users", "", 200, ""},
		{"list groups", "GET", "/Groups", "", 200, ""},
		{"endpoint case-insensitive", "GET", "/users", "", 200, ""},
		{"root query", "GET", "/", "", 200, ""},
		{"root query without slash", "GET", "", "", 200, ""},
		{"root search", "POST", "/.search", searchBody, 200, ""},
		{"users search", "POST", "/Users/.search", searchBody, 200, ""},
		{"groups search", "POST", "/Groups/.search", `{"schemas":["` + scim.SearchRequestSchema + `"]}`, 200, ""},
		{"get user", "GET", "/Users/" + uid, "", 200, ""},
		{"get group", "GET", "/Groups/" + gid, "", 200, ""},
		{"get missing user", "GET", "/Users/does-not-exist", "", 404, ""},
		{"create user", "POST", "/Users", strings.Replace(userBody, "bjensen", "created", 1), 201, ""},
		{"replace user", "PUT", "/Users/" + uid, userBody, 200, ""},
		{"patch user", "PATCH", "/Users/" + uid, patchBody, 200, ""},
		{"delete user", "DELETE", "/Users/" + uid2, "", 204, ""},
		{"delete deleted user", "DELETE", "/Users/" + uid2, "", 404, ""},
		{"bulk", "POST", "/Bulk", bulkBody, 200, ""},

		{"delete collection", "DELETE", "/Users", "", 405, "GET, POST"},
		{"put collection", "PUT", "/Groups", userBody, 405, "GET, POST"},
		{"post to resource", "POST", "/Users/" + uid, userBody, 405, "GET, PUT, PATCH, DELETE"},
		{"post schemas", "POST", "/Schemas", userBody, 405, "GET"},
		{"delete schema", "DELETE", "/Schemas/" + scim.UserSchema, "", 405, "GET"},
		{"delete service provider config", "DELETE", "/ServiceProviderConfig", "", 405, "GET"},
		{"patch resource type", "PATCH", "/ResourceTypes/User", patchBody, 405, "GET"},
		{"get bulk", "GET", "/Bulk", "", 405, "POST"},
		{"get search", "GET", "/.search", "", 405, "POST"},
		{"unknown method", "OPTIONS", "/Users", "", 405, "GET, POST"},

		{"unknown endpoint", "GET", "/Devices", "", 404, ""},
		{"post unknown endpoint", "POST", "/Devices", userBody, 404, ""},
		{"delete unknown endpoint", "DELETE", "/Devices", "", 404, ""},
		{"too deep", "GET", "/Users/" + uid + "/emails", "", 404, ""},
		{"bulk with id", "POST", "/Bulk/1", bulkBody, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, req{method: tt.method, path: memoryRoot + tt.path, token: adminToken, body: tt.body})
			if r.status != tt.want {
				t.Fatalf("%s %s = %d, want %d\n%s", tt.method, tt.path, r.status, tt.want, r.body)
			}
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if tt.want == http.StatusNoContent {
				if len(r.body) != 0 {
					t.Errorf("204 with a body: %s", r.body)
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
				t.Errorf("Content-Type = %q, want application/scim+json", ct)
			}
			if tt.want >= 400 {
				checkError(t, r, tt.want, "")
			}
		})
	}
}

// TestRoutesOutsideSCIM checks paths outside the SCIM roots and the targets a
// target lacks.
func TestRoutesOutsideSCIM(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{"root", "GET", "/", "", 404},
		{"unknown", "GET", "/nothing/here", adminToken, 404},
		{"targets without root", "GET", "/targets/memory", adminToken, 404},
		{"other version", "GET", "/targets/memory/scim/v1/Users", adminToken, 404},
		{"groups on users-only target", "GET", usersRoot + "/Groups", adminToken, 404},
		{"create group on users-only target", "POST", usersRoot + "/Groups", adminToken, 404},
		{"group by id on users-only target", "GET", usersRoot + "/Groups/x", adminToken, 404},
		{"group search on users-only target", "POST", usersRoot + "/Groups/.search", adminToken, 404},
		{"users on users-only target", "GET", usersRoot + "/Users", adminToken, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ""
			if tt.method == "POST" {
				body = `{"schemas":["` + scim.SearchRequestSchema + `"],"displayName":"x"}`
			}
			r := f.do(t, req{method: tt.method, path: tt.path, token: tt.token, body: body})
			if tt.want >= 400 {
				checkError(t, r, tt.want, "")
			} else if r.status != tt.want {
				t.Fatalf("status = %d, want %d\n%s", r.status, tt.want, r.body)
			}
		})
	}
}
