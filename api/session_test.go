package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Schema URNs used in request bodies.
const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	searchURN     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	bulkURN       = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
)

// The SCIM roots of the session: the target memory by name, and the
// default targets of the two credentials.
const (
	root        = "/targets/memory/scim/v2"
	defaultRoot = "/scim/v2"
)

// TestSession drives a provisioning session against the real gateway, the
// way an identity provider and an admin script would, and validates every
// request and response against the document (gateway.do). At the end, every
// operation of the document must have been reached by a conforming request,
// so that the document describes nothing the gateway does not serve.
func TestSession(t *testing.T) {
	doc := loadDocument(t)
	g := newGateway(t, doc, nil)
	admin := func(c call) call { c.token = adminToken; return c }

	t.Run("Discovery", func(t *testing.T) {
		for _, p := range []string{
			root + "/ServiceProviderConfig", defaultRoot + "/ServiceProviderConfig",
			root + "/ResourceTypes", root + "/ResourceTypes/User", root + "/ResourceTypes/group",
			root + "/Schemas", root + "/Schemas/" + userURN, root + "/Schemas/" + enterpriseURN, root + "/Schemas/" + groupURN,
		} {
			g.do(t, admin(call{method: "GET", path: p, want: http.StatusOK}))
		}
		g.do(t, admin(call{method: "GET", path: root + "/ResourceTypes/Device", want: http.StatusNotFound}))
		g.do(t, admin(call{method: "GET", path: root + "/Schemas/urn:example:nope", want: http.StatusNotFound}))
		// RFC 7644 §4: discovery refuses filters.
		g.do(t, admin(call{method: "GET", path: root + "/ResourceTypes?filter=" + url.QueryEscape(`id eq "User"`), want: http.StatusForbidden}))
		// Without anonymous discovery configured, a credential is needed;
		// the document allows both, as the configuration decides.
		g.do(t, call{method: "GET", path: root + "/Schemas", want: http.StatusUnauthorized})
		g.do(t, call{method: "GET", path: root + "/Schemas", token: "not-a-known-token", want: http.StatusUnauthorized})
		g.do(t, admin(call{method: "GET", path: "/targets/nope/scim/v2/ServiceProviderConfig", want: http.StatusNotFound}))
		g.do(t, call{method: "GET", path: root + "/ServiceProviderConfig", token: limitedToken, want: http.StatusForbidden})
	})

	var managerID, userID, userTag, otherID, groupID string

	t.Run("Users", func(t *testing.T) {
		m := g.do(t, admin(call{method: "POST", path: root + "/Users", want: http.StatusCreated,
			body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "mmanager@example.com", "displayName": "Maria Manager"})}))
		managerID = str(m.json(t), "id")

		created := g.do(t, admin(call{method: "POST", path: root + "/Users", want: http.StatusCreated, body: jsonBody(t, map[string]any{
			"schemas":     []string{userURN, enterpriseURN},
			"externalId":  "00u1abcd",
			"userName":    "bjensen@example.com",
			"name":        map[string]any{"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
			"displayName": "Babs Jensen",
			"active":      true,
			"password":    "t1meMa$heen",
			"locale":      "en-US",
			"emails": []any{
				map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
				map[string]any{"value": "babs@jensen.org", "type": "home"},
			},
			"phoneNumbers": []any{map[string]any{"value": "+1 555 555 8377", "type": "work"}},
			"addresses":    []any{map[string]any{"streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US", "type": "work"}},
			enterpriseURN: map[string]any{
				"employeeNumber": "701984", "costCenter": "4130", "department": "Tour Operations",
				"manager": map[string]any{"value": managerID},
			},
		})}))
		u := created.json(t)
		userID, userTag = str(u, "id"), created.header.Get("ETag")
		if loc := created.header.Get("Location"); loc == "" || loc != str(u, "meta.location") {
			t.Errorf("Location = %q, meta.location = %q: want the same URL", loc, str(u, "meta.location"))
		}
		if userTag == "" || userTag != str(u, "meta.version") {
			t.Errorf("ETag = %q, meta.version = %q: want the same version", userTag, str(u, "meta.version"))
		}
		if _, ok := u["password"]; ok {
			t.Errorf("password returned: %s", created.body)
		}

		// The caller's request id comes back.
		if got := g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID, header: map[string]string{"X-Request-Id": "okta-req:42"}, want: http.StatusOK})).header.Get("X-Request-Id"); got != "okta-req:42" {
			t.Errorf("X-Request-Id = %q, want the caller's okta-req:42", got)
		}
		// A client that sends application/json is served too.
		other := g.do(t, admin(call{method: "POST", path: root + "/Users", want: http.StatusCreated,
			header: map[string]string{"Content-Type": "application/json"},
			body:   jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "jsmith@example.com", "active": false})}))
		otherID = str(other.json(t), "id")

		// userName is unique, compared case-insensitively.
		conflict := g.do(t, admin(call{method: "POST", path: root + "/Users", want: http.StatusConflict,
			body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "BJensen@example.com"})}))
		checkScimType(t, conflict, "uniqueness")
		// What the document's request schemas forbid, the gateway refuses.
		g.do(t, admin(call{method: "POST", path: root + "/Users", breaks: true, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "displayName": "no userName"})}))
		unknown := g.do(t, admin(call{method: "POST", path: root + "/Users", breaks: true, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "x@example.com", "favoriteColor": "blue"})}))
		checkScimType(t, unknown, "invalidSyntax")
		g.do(t, admin(call{method: "POST", path: root + "/Users", breaks: true, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "y@example.com", "active": 42})}))
		g.do(t, admin(call{method: "POST", path: root + "/Users", breaks: true, want: http.StatusUnsupportedMediaType,
			header: map[string]string{"Content-Type": "text/plain"}, body: `{"userName":"z@example.com"}`}))
		g.do(t, admin(call{method: "POST", path: root + "/Users", want: http.StatusRequestEntityTooLarge,
			body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "big@example.com", "title": strings.Repeat("x", maxBody)})}))
		g.do(t, call{method: "POST", path: root + "/Users", breaks: true, want: http.StatusUnauthorized,
			body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "anon@example.com"})})
		g.do(t, call{method: "GET", path: root + "/Users", token: limitedToken, want: http.StatusForbidden})

		// Reads, conditional reads and projections.
		u = g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID, want: http.StatusOK})).json(t)
		if str(u, enterpriseURN+".manager.value") != managerID {
			t.Errorf("manager = %v, want %s", u[enterpriseURN], managerID)
		}
		g.do(t, admin(call{method: "GET", path: defaultRoot + "/Users/" + userID, want: http.StatusOK}))
		g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID, header: map[string]string{"If-None-Match": userTag}, want: http.StatusNotModified}))
		g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID, header: map[string]string{"If-Match": `W/"stale"`}, want: http.StatusPreconditionFailed}))
		g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID + "?attributes=userName,emails.value", want: http.StatusOK}))
		g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID + "?excludedAttributes=meta,name," + enterpriseURN, want: http.StatusOK}))
		g.do(t, admin(call{method: "GET", path: root + "/Users/00000000-0000-4000-8000-000000000000", want: http.StatusNotFound}))

		// Queries.
		list := g.do(t, admin(call{method: "GET", path: root + "/Users?filter=" + url.QueryEscape(`userName eq "BJENSEN@example.com"`), want: http.StatusOK})).json(t)
		if list["totalResults"] != float64(1) {
			t.Errorf("filter by userName: totalResults = %v, want 1", list["totalResults"])
		}
		g.do(t, admin(call{method: "GET", want: http.StatusOK, path: root + "/Users?" + url.Values{
			"filter": {`emails[type eq "work" and value co "@example.com"] or active eq false`}, "attributes": {"userName,active"},
			"sortBy": {"userName"}, "sortOrder": {"descending"}, "startIndex": {"2"}, "count": {"1"},
		}.Encode()}))
		g.do(t, admin(call{method: "GET", path: defaultRoot + "/Users?count=0", want: http.StatusOK}))
		bad := g.do(t, admin(call{method: "GET", path: root + "/Users?filter=" + url.QueryEscape(`userName eq`), want: http.StatusBadRequest}))
		checkScimType(t, bad, "invalidFilter")
		g.do(t, admin(call{method: "GET", path: root + "/Users?count=ten", breaks: true, want: http.StatusBadRequest}))
		g.do(t, admin(call{method: "GET", path: root + "/Users?sortOrder=upwards", breaks: true, want: http.StatusBadRequest}))
		g.do(t, admin(call{method: "POST", path: root + "/Users/.search", want: http.StatusOK, body: jsonBody(t, map[string]any{
			"schemas": []string{searchURN}, "filter": `name.familyName sw "Jen"`, "attributes": []string{"userName", "name"},
			"sortBy": "userName", "startIndex": 1, "count": 10,
		})}))
		g.do(t, admin(call{method: "POST", path: root + "/Users/.search", breaks: true, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"filter": `userName pr`})}))

		// Writes guarded by the version.
		put := g.do(t, admin(call{method: "PUT", path: root + "/Users/" + userID, want: http.StatusOK,
			header: map[string]string{"If-Match": userTag},
			body: jsonBody(t, map[string]any{
				"schemas": []string{userURN, enterpriseURN}, "userName": "bjensen@example.com", "displayName": "Barbara Jensen",
				"emails":      []any{map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true}},
				enterpriseURN: map[string]any{"department": "Tour Operations", "manager": map[string]any{"value": managerID}},
			})}))
		stale := userTag
		userTag = put.header.Get("ETag")
		if userTag == stale {
			t.Errorf("PUT kept the version %s", userTag)
		}
		g.do(t, admin(call{method: "PUT", path: root + "/Users/" + userID, want: http.StatusPreconditionFailed,
			header: map[string]string{"If-Match": stale},
			body:   jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": "bjensen@example.com"})}))
		patched := g.do(t, admin(call{method: "PATCH", path: root + "/Users/" + userID, want: http.StatusOK,
			header: map[string]string{"If-Match": userTag},
			body: jsonBody(t, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
				map[string]any{"op": "replace", "path": "displayName", "value": "Babs"},
				map[string]any{"op": "add", "path": "phoneNumbers", "value": []any{map[string]any{"value": "+1 555 555 0101", "type": "mobile"}}},
				map[string]any{"op": "replace", "path": enterpriseURN + ":department", "value": "Guest Relations"},
				map[string]any{"op": "remove", "path": `emails[type eq "work"]`},
			}})}))
		userTag = patched.header.Get("ETag")
		// Microsoft Entra ID capitalizes op: outside the document's form,
		// which is RFC 7644's, and accepted all the same.
		g.do(t, admin(call{method: "PATCH", path: root + "/Users/" + otherID, breaks: true, want: http.StatusOK,
			body: jsonBody(t, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
				map[string]any{"op": "Replace", "path": "active", "value": "True"},
			}})}))
		g.do(t, admin(call{method: "PATCH", path: root + "/Users/" + userID, breaks: true, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
				map[string]any{"op": "add", "path": "title"},
			}})}))
		badPath := g.do(t, admin(call{method: "PATCH", path: root + "/Users/" + userID, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
				map[string]any{"op": "replace", "path": "favoriteColor", "value": "blue"},
			}})}))
		checkScimType(t, badPath, "invalidPath")
	})

	t.Run("Groups", func(t *testing.T) {
		created := g.do(t, admin(call{method: "POST", path: root + "/Groups", want: http.StatusCreated, body: jsonBody(t, map[string]any{
			"schemas": []string{groupURN}, "displayName": "Tour Guides", "externalId": "00g1",
			"members": []any{map[string]any{"value": userID, "type": "User"}, map[string]any{"value": managerID}},
		})}))
		gr := created.json(t)
		groupID = str(gr, "id")
		tag := created.header.Get("ETag")
		g.do(t, admin(call{method: "GET", path: root + "/Groups/" + groupID, want: http.StatusOK}))
		g.do(t, admin(call{method: "GET", path: root + "/Groups/" + groupID, header: map[string]string{"If-None-Match": tag}, want: http.StatusNotModified}))
		g.do(t, admin(call{method: "GET", path: root + "/Groups/" + groupID, header: map[string]string{"If-Match": `W/"0"`}, want: http.StatusPreconditionFailed}))
		// The user now lists the group it is a member of.
		u := g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID + "?attributes=groups", want: http.StatusOK})).json(t)
		if groups, _ := u["groups"].([]any); len(groups) != 1 {
			t.Errorf("user groups = %v, want the one group", u["groups"])
		}
		g.do(t, admin(call{method: "GET", path: root + "/Groups?excludedAttributes=members&filter=" + url.QueryEscape(`displayName eq "Tour Guides"`), want: http.StatusOK}))
		g.do(t, admin(call{method: "POST", path: root + "/Groups/.search", want: http.StatusOK,
			body: jsonBody(t, map[string]any{"schemas": []string{searchURN}, "filter": `members.value eq "` + userID + `"`})}))
		p := g.do(t, admin(call{method: "PATCH", path: root + "/Groups/" + groupID, want: http.StatusOK,
			header: map[string]string{"If-Match": tag},
			body: jsonBody(t, map[string]any{"schemas": []string{patchURN}, "Operations": []any{
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": otherID}}},
				map[string]any{"op": "remove", "path": `members[value eq "` + managerID + `"]`},
			}})}))
		tag = p.header.Get("ETag")
		g.do(t, admin(call{method: "PUT", path: root + "/Groups/" + groupID, want: http.StatusOK,
			header: map[string]string{"If-Match": tag},
			body: jsonBody(t, map[string]any{"schemas": []string{groupURN}, "displayName": "Senior Tour Guides",
				"members": []any{map[string]any{"value": userID}}})}))
		g.do(t, admin(call{method: "PUT", path: root + "/Groups/" + groupID, breaks: true, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{groupURN}, "members": []any{}})}))
	})

	t.Run("QueryAcrossTypes", func(t *testing.T) {
		all := g.do(t, admin(call{method: "GET", path: root + "/?sortBy=meta.created&count=50", want: http.StatusOK})).json(t)
		if all["totalResults"] != float64(4) {
			t.Errorf("query across types: totalResults = %v, want 3 users and 1 group", all["totalResults"])
		}
		g.do(t, admin(call{method: "POST", path: root + "/.search", want: http.StatusOK,
			body: jsonBody(t, map[string]any{"schemas": []string{searchURN}, "filter": `meta.resourceType eq "Group"`, "excludedAttributes": []string{"members"}})}))
		g.do(t, admin(call{method: "POST", path: defaultRoot + "/.search", want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{searchURN}, "filter": `displayName eq`})}))
	})

	t.Run("Paging", func(t *testing.T) {
		// The credential "limited" has the target small as its default:
		// a page size of 2, at most 3.
		limited := func(c call) call { c.token = limitedToken; return c }
		for _, name := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
			g.do(t, limited(call{method: "POST", path: defaultRoot + "/Users", want: http.StatusCreated,
				body: jsonBody(t, map[string]any{"schemas": []string{userURN}, "userName": name})}))
		}
		for _, tt := range []struct {
			query         string
			total, onPage float64
		}{
			{"", 4, 2},
			{"?count=10", 4, 3},
			{"?startIndex=4&count=3", 4, 1},
			{"?startIndex=0&count=-1", 4, 0},
		} {
			page := g.do(t, limited(call{method: "GET", path: defaultRoot + "/Users" + tt.query, want: http.StatusOK})).json(t)
			if page["totalResults"] != tt.total || page["itemsPerPage"] != tt.onPage {
				t.Errorf("GET /Users%s: totalResults %v, itemsPerPage %v; want %v, %v", tt.query, page["totalResults"], page["itemsPerPage"], tt.total, tt.onPage)
			}
		}
	})

	t.Run("Bulk", func(t *testing.T) {
		resp := g.do(t, admin(call{method: "POST", path: root + "/Bulk", want: http.StatusOK, body: jsonBody(t, map[string]any{
			"schemas": []string{bulkURN}, "failOnErrors": 5,
			"Operations": []any{
				map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{
					"schemas": []string{groupURN}, "displayName": "Bulk Group",
					"members": []any{map[string]any{"value": "bulkId:u1", "type": "User"}}}},
				map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": map[string]any{
					"schemas": []string{userURN}, "userName": "bulk@example.com"}},
				map[string]any{"method": "PATCH", "path": "/Users/bulkId:u1", "data": map[string]any{
					"schemas": []string{patchURN}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": true}}}},
				map[string]any{"method": "PUT", "path": "/Users/" + otherID, "version": `W/"stale"`, "data": map[string]any{
					"schemas": []string{userURN}, "userName": "jsmith@example.com"}},
				map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": map[string]any{
					"schemas": []string{userURN}, "userName": "bjensen@example.com"}},
				map[string]any{"method": "DELETE", "path": "/Users/00000000-0000-4000-8000-000000000000"},
				map[string]any{"method": "DELETE", "path": "/Users/" + managerID},
			},
		})})).json(t)
		ops, _ := resp["Operations"].([]any)
		var statuses []string
		for _, op := range ops {
			statuses = append(statuses, str(op.(map[string]any), "status"))
		}
		if got, want := strings.Join(statuses, " "), "201 201 200 412 409 404 204"; got != want {
			t.Errorf("bulk statuses = %s, want %s", got, want)
		}
		// The target small allows 2 operations and 2048 bytes.
		limited := func(c call) call { c.token = limitedToken; return c }
		del := map[string]any{"method": "DELETE", "path": "/Users/x"}
		g.do(t, limited(call{method: "POST", path: defaultRoot + "/Bulk", want: http.StatusRequestEntityTooLarge,
			body: jsonBody(t, map[string]any{"schemas": []string{bulkURN}, "Operations": []any{del, del, del}})}))
		g.do(t, limited(call{method: "POST", path: defaultRoot + "/Bulk", want: http.StatusRequestEntityTooLarge,
			body: jsonBody(t, map[string]any{"schemas": []string{bulkURN}, "Operations": []any{
				map[string]any{"method": "POST", "path": "/Users", "bulkId": "big", "data": map[string]any{
					"schemas": []string{userURN}, "userName": "big@example.com", "title": strings.Repeat("x", 4096)}},
			}})}))
		g.do(t, admin(call{method: "POST", path: root + "/Bulk", breaks: true, want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{bulkURN}, "failOnErrors": -1, "Operations": []any{}})}))
		// A POST without bulkId breaks the document; the gateway fails that
		// operation alone.
		noID := g.do(t, admin(call{method: "POST", path: root + "/Bulk", breaks: true, want: http.StatusOK,
			body: jsonBody(t, map[string]any{"schemas": []string{bulkURN}, "Operations": []any{
				map[string]any{"method": "POST", "path": "/Users", "data": map[string]any{"schemas": []string{userURN}, "userName": "nobulkid@example.com"}},
			}})})).json(t)
		if ops, _ := noID["Operations"].([]any); len(ops) != 1 || str(ops[0].(map[string]any), "status") != "400" {
			t.Errorf("POST without bulkId: %v, want one operation failed with 400", noID["Operations"])
		}
	})

	t.Run("Deletes", func(t *testing.T) {
		tag := g.do(t, admin(call{method: "GET", path: root + "/Groups/" + groupID, want: http.StatusOK})).header.Get("ETag")
		g.do(t, admin(call{method: "DELETE", path: root + "/Groups/" + groupID, header: map[string]string{"If-Match": `W/"0"`}, want: http.StatusPreconditionFailed}))
		g.do(t, admin(call{method: "DELETE", path: root + "/Groups/" + groupID, header: map[string]string{"If-Match": tag}, want: http.StatusNoContent}))
		g.do(t, admin(call{method: "DELETE", path: root + "/Groups/" + groupID, want: http.StatusNotFound}))
		g.do(t, admin(call{method: "DELETE", path: root + "/Users/" + userID, header: map[string]string{"If-Match": `W/"0"`}, want: http.StatusPreconditionFailed}))
		g.do(t, admin(call{method: "DELETE", path: defaultRoot + "/Users/" + userID, header: map[string]string{"If-Match": userTag}, want: http.StatusNoContent}))
		g.do(t, admin(call{method: "GET", path: root + "/Users/" + userID, want: http.StatusNotFound}))
		g.do(t, admin(call{method: "DELETE", path: root + "/Users/" + userID, want: http.StatusNotFound}))
	})

	t.Run("OtherResourceTypes", func(t *testing.T) {
		const devices = "/targets/devices/scim/v2"
		types := g.do(t, admin(call{method: "GET", path: devices + "/ResourceTypes", want: http.StatusOK})).json(t)
		if types["totalResults"] != float64(1) {
			t.Errorf("devices: %v resource types, want Device alone", types["totalResults"])
		}
		g.do(t, admin(call{method: "GET", path: devices + "/Schemas/" + deviceURN, want: http.StatusOK}))
		// The target serves no Users, and memory no Devices: 404. The
		// templates match any name; the gateway knows the target's.
		g.do(t, admin(call{method: "GET", path: devices + "/Users", want: http.StatusNotFound}))
		g.do(t, admin(call{method: "GET", path: root + "/Devices", want: http.StatusNotFound}))
		g.do(t, admin(call{method: "GET", path: root + "/Bulk/1", want: http.StatusNotFound}))

		created := g.do(t, admin(call{method: "POST", path: devices + "/Devices", want: http.StatusCreated,
			body: jsonBody(t, map[string]any{"schemas": []string{deviceURN}, "serialNumber": "C02XK0AAJG5J", "displayName": "Barbara's laptop"})}))
		id, tag := str(created.json(t), "id"), created.header.Get("ETag")
		g.do(t, admin(call{method: "POST", path: devices + "/Devices", want: http.StatusCreated,
			body: jsonBody(t, map[string]any{"schemas": []string{deviceURN}, "serialNumber": "F9FX12AB"})}))
		g.do(t, admin(call{method: "POST", path: devices + "/Devices", want: http.StatusBadRequest,
			body: jsonBody(t, map[string]any{"schemas": []string{deviceURN}, "displayName": "no serial number"})}))
		list := g.do(t, admin(call{method: "GET", path: devices + "/devices?sortBy=serialNumber&sortOrder=descending&filter=" + url.QueryEscape(`serialNumber sw "C02"`), want: http.StatusOK})).json(t)
		if list["totalResults"] != float64(1) {
			t.Errorf("filtered devices: totalResults %v, want 1", list["totalResults"])
		}
		g.do(t, admin(call{method: "POST", path: devices + "/Devices/.search", want: http.StatusOK,
			body: jsonBody(t, map[string]any{"schemas": []string{searchURN}, "sortBy": "serialNumber", "count": 1})}))
		g.do(t, admin(call{method: "GET", path: devices + "/Devices/" + id, want: http.StatusOK}))
		g.do(t, admin(call{method: "GET", path: devices + "/Devices/" + id, header: map[string]string{"If-None-Match": tag}, want: http.StatusNotModified}))
		put := g.do(t, admin(call{method: "PUT", path: devices + "/Devices/" + id, header: map[string]string{"If-Match": tag}, want: http.StatusOK,
			body: jsonBody(t, map[string]any{"schemas": []string{deviceURN}, "serialNumber": "C02XK0AAJG5J", "enrolled": true})}))
		g.do(t, admin(call{method: "PATCH", path: devices + "/Devices/" + id, header: map[string]string{"If-Match": tag}, want: http.StatusPreconditionFailed,
			body: jsonBody(t, map[string]any{"schemas": []string{patchURN}, "Operations": []any{map[string]any{"op": "replace", "path": "enrolled", "value": false}}})}))
		g.do(t, admin(call{method: "PATCH", path: devices + "/Devices/" + id, header: map[string]string{"If-Match": put.header.Get("ETag")}, want: http.StatusOK,
			body: jsonBody(t, map[string]any{"schemas": []string{patchURN}, "Operations": []any{map[string]any{"op": "replace", "path": "enrolled", "value": false}}})}))
		all := g.do(t, admin(call{method: "GET", path: devices + "/", want: http.StatusOK})).json(t)
		if all["totalResults"] != float64(2) {
			t.Errorf("query across the types of devices: totalResults %v, want 2", all["totalResults"])
		}
		g.do(t, admin(call{method: "DELETE", path: devices + "/Devices/" + id, want: http.StatusNoContent}))
		g.do(t, admin(call{method: "DELETE", path: devices + "/Devices/" + id, want: http.StatusNotFound}))
	})

	t.Run("Undocumented", func(t *testing.T) {
		// A method a documented path is not served with: 405, whose Allow
		// the harness checks against the document's methods for the path.
		for _, c := range []call{
			{method: "DELETE", path: root + "/Users"},
			{method: "PUT", path: defaultRoot + "/Groups", body: `{}`},
			{method: "POST", path: root + "/Users/" + otherID, body: `{}`},
			{method: "POST", path: root + "/Schemas", body: `{}`},
			{method: "GET", path: root + "/Bulk"},
			{method: "GET", path: root + "/.search"},
			{method: "DELETE", path: root + "/ServiceProviderConfig"},
		} {
			c.undocumented, c.want = true, http.StatusMethodNotAllowed
			g.do(t, admin(c))
		}
		// A path that is no endpoint: 404, a SCIM Error still.
		for _, p := range []string{root + "/Users/" + otherID + "/emails", "/scim", "/targets/memory", "/"} {
			g.do(t, admin(call{method: "GET", path: p, undocumented: true, want: http.StatusNotFound}))
		}
	})

	t.Run("Operations", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/version"} {
			g.do(t, call{method: "GET", path: p, want: http.StatusOK})
			if r := g.do(t, call{method: "HEAD", path: p, want: http.StatusOK}); len(r.body) != 0 {
				t.Errorf("HEAD %s: %d body bytes, want none", p, len(r.body))
			}
			g.do(t, call{method: "POST", path: p, body: `{}`, undocumented: true, want: http.StatusMethodNotAllowed})
		}
		ready := g.do(t, call{method: "GET", path: "/readyz", want: http.StatusOK}).json(t)
		states := map[string]string{}
		for name, v := range ready["targets"].(map[string]any) {
			states[name] = str(v.(map[string]any), "status")
		}
		if ready["status"] != "degraded" || states["memory"] != "ok" || states["small"] != "failing" || states["plain"] != "unchecked" {
			t.Errorf("GET /readyz = %v, want degraded with memory ok, small failing, plain unchecked", ready)
		}
		if v := g.do(t, call{method: "GET", path: "/version", want: http.StatusOK}).json(t); v["version"] != build.Version || v["goVersion"] != build.GoVersion {
			t.Errorf("GET /version = %v, want %+v", v, build)
		}

		// A scrape: the Prometheus text format, or OpenMetrics when asked for.
		text := g.do(t, call{method: "GET", path: "/metrics", want: http.StatusOK})
		if ct := text.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("GET /metrics: Content-Type %q, want the text format 0.0.4", ct)
		}
		if !strings.Contains(string(text.body), `scim_gateway_requests_total{`) || !strings.Contains(string(text.body), `target="memory"`) {
			t.Errorf("GET /metrics does not count the session's requests:\n%.2000s", text.body)
		}
		om := g.do(t, call{method: "GET", path: "/metrics", header: map[string]string{"Accept": "application/openmetrics-text; version=1.0.0"}, want: http.StatusOK})
		if ct := om.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.HasSuffix(string(om.body), "# EOF\n") {
			t.Errorf("GET /metrics asking for OpenMetrics: Content-Type %q, body ending %q", ct, om.body[max(0, len(om.body)-20):])
		}
		if r := g.do(t, call{method: "HEAD", path: "/metrics", want: http.StatusOK}); len(r.body) != 0 {
			t.Errorf("HEAD /metrics: %d body bytes, want none", len(r.body))
		}
		g.do(t, call{method: "POST", path: "/metrics", body: `{}`, undocumented: true, want: http.StatusMethodNotAllowed})
	})

	t.Run("EveryOperationExercised", func(t *testing.T) {
		for _, op := range operations(doc) {
			path := strings.SplitN(op, " ", 2)[1]
			if planned(doc, op) {
				// Described ahead of the code: the gateway must not serve it
				// yet, and once it does, the session must cover it.
				if st := g.rawStatus(t, strings.SplitN(op, " ", 2)[0], path); st != http.StatusNotFound {
					t.Errorf("%s answers %d: it is served now; drop x-planned from the document and exercise it in the session", op, st)
				}
				continue
			}
			if !g.exercised[op] {
				t.Errorf("%s: no conforming request of the session reached it; test it, or drop it from the document if the gateway does not serve it", op)
			}
		}
	})
}

// checkScimType fails unless r is a SCIM Error with scimType want.
func checkScimType(t testing.TB, r reply, want string) {
	t.Helper()
	if got, _ := r.json(t)["scimType"].(string); got != want {
		t.Errorf("scimType = %q, want %q\n%s", got, want, r.body)
	}
}

// str returns the string at a dotted path of a decoded JSON object; the
// last dot-free URN segment is taken whole (an extension's key).
func str(m map[string]any, path string) string {
	var v any = m
	for _, part := range splitPath(path) {
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = obj[part]
	}
	s, _ := v.(string)
	return s
}

// splitPath splits "urn:...:2.0:User.manager.value" into the URN and the
// names after it: a URN holds dots ("2.0") of its own.
func splitPath(path string) []string {
	if strings.HasPrefix(path, "urn:") {
		i := strings.LastIndexByte(path, ':')
		rest := path[i+1:]
		head := path[:i+1]
		parts := strings.Split(rest, ".")
		// The URN's last segment ("User") belongs to it.
		return append([]string{head + parts[0]}, parts[1:]...)
	}
	return strings.Split(path, ".")
}

// TestReadinessPhases validates the 503 answers of /readyz while the gateway
// starts and drains.
func TestReadinessPhases(t *testing.T) {
	t.Parallel()
	health := newHealth()
	g := newGateway(t, loadDocument(t), health)
	for _, phase := range []struct {
		name  string
		set   func()
		want  int
		state string // the status member of the body
	}{
		{"starting", func() {}, http.StatusServiceUnavailable, "starting"},
		{"ready", health.SetReady, http.StatusOK, "degraded"}, // the target small fails its check
		{"draining", health.SetDraining, http.StatusServiceUnavailable, "draining"},
	} {
		phase.set()
		r := g.do(t, call{method: "GET", path: "/readyz", want: phase.want}).json(t)
		if r["status"] != phase.state {
			t.Errorf("%s: GET /readyz status %v, want %s", phase.name, r["status"], phase.state)
		}
		g.do(t, call{method: "HEAD", path: "/readyz", want: phase.want})
		// Liveness holds in every phase.
		g.do(t, call{method: "GET", path: "/healthz", want: http.StatusOK})
	}
}
