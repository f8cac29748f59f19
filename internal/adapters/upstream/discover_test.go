package upstream

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// discoveryUpstream serves docs (path under the service root → answer) and
// 404 for anything else; it returns the service root.
func discoveryUpstream(t *testing.T, docs map[string]answer) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ans, ok := docs[strings.TrimPrefix(r.URL.Path, "/scim/v2")]
		if !ok || r.Header.Get("Authorization") != "Bearer "+testToken {
			ans = answer{404, scimJSON, scimError("404", "", "no such endpoint")}
		}
		for k, v := range ans.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(ans.status)
		_, _ = w.Write([]byte(ans.body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

func discoverFrom(t *testing.T, base string) (*Adapter, error) {
	t.Helper()
	return New(t.Context(), base, outbound.StaticToken(testToken), WithOutboundOptions(
		outbound.WithRetry(outbound.RetryPolicy{Base: 1, Max: 2}), outbound.WithBreaker(outbound.BreakerPolicy{Failures: -1})))
}

func ok(body string) answer { return answer{200, scimJSON, body} }

const (
	spcAll = `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
		"patch": {"supported": true}, "filter": {"supported": true, "maxResults": 200},
		"sort": {"supported": true}, "etag": {"supported": true}, "bulk": {"supported": false}}`
	userAndGroup = `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2, "Resources": [
		{"id": "User", "name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
		 "schemaExtensions": [{"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}]},
		{"id": "Group", "name": "Group", "endpoint": "Groups", "schema": "urn:ietf:params:scim:schemas:core:2.0:Group"}]}`
)

func TestDiscoverStandard(t *testing.T) {
	base := discoveryUpstream(t, map[string]answer{
		"/ServiceProviderConfig": ok(spcAll),
		"/ResourceTypes":         ok(userAndGroup),
	})
	a, err := discoverFrom(t, base)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Capabilities()
	if !c.Sort || !c.Patch || !c.ETag || c.MaxPageSize != 200 || !c.Filter["User"].Any || !c.Filter["Group"].Not {
		t.Errorf("Capabilities() = %+v, want everything native, page 200", c)
	}
	if len(c.ResourceTypes) != 2 {
		t.Fatalf("ResourceTypes = %v, want User and Group", c.ResourceTypes)
	}
	u, g := c.ResourceTypes[0], c.ResourceTypes[1]
	if u.ID != "User" || u.Endpoint != "/Users" || u.Schema != scim.UserSchemaDef ||
		len(u.Extensions) != 1 || u.Extensions[0] != scim.EnterpriseUserSchemaDef {
		t.Errorf("User = %+v, want the standard User at /Users", u)
	}
	if g.ID != "Group" || g.Endpoint != "/Groups" || g.Schema != scim.GroupSchemaDef || len(g.Extensions) != 0 {
		t.Errorf("Group = %+v, want the standard Group at /Groups", g)
	}
}

// TestDiscoverLenient reads documents as real providers write them: bare
// arrays instead of ListResponses, booleans and numbers as strings, types
// and modes in any case.
func TestDiscoverLenient(t *testing.T) {
	base := discoveryUpstream(t, map[string]answer{
		"/ServiceProviderConfig": ok(`{"filter": {"supported": "True", "maxResults": "50"}, "sort": {"supported": "false"},
			"patch": {"supported": null}}`),
		"/ResourceTypes": ok(`[
			{"name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
			 "schemaExtensions": [{"schema": "urn:example:params:scim:schemas:extension:acme:2.0:User", "required": true}]},
			{"id": "Device", "endpoint": "/Devices", "schema": "urn:example:params:scim:schemas:core:2.0:Device"},
			{"id": "Thing", "endpoint": "/Things", "schema": "urn:example:undescribed"}]`),
		"/Schemas": ok(`[
			{"id": "urn:ietf:params:scim:schemas:core:2.0:User", "attributes": [{"name": "userName"}]},
			{"id": "urn:example:params:scim:schemas:extension:acme:2.0:User", "attributes": [
				{"name": "badge", "type": "String", "uniqueness": "SERVER"},
				{"name": "level", "type": "INTEGER", "mutability": "READONLY", "returned": "Always"},
				{"name": "site", "type": "complex", "subAttributes": [{"name": "code", "type": "string", "caseExact": true}]}]},
			{"id": "urn:example:params:scim:schemas:core:2.0:Device", "attributes": [{"name": "serial", "required": true}]}]`),
	})
	a, err := discoverFrom(t, base)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Capabilities()
	if c.Sort || c.Patch || c.ETag || c.MaxPageSize != 50 || !c.Filter["User"].Any || !c.Filter["Device"].Any {
		t.Errorf("Capabilities() = %+v, want filter only, page 50", c)
	}
	if len(c.ResourceTypes) != 2 {
		t.Fatalf("ResourceTypes = %v, want User and Device (Thing has no schema definition)", c.ResourceTypes)
	}
	u, d := c.ResourceTypes[0], c.ResourceTypes[1]
	// The standard User definition wins over the upstream's sketch of it.
	if u.ID != "User" || u.Schema != scim.UserSchemaDef || len(u.Extensions) != 1 {
		t.Fatalf("User = %+v, want the standard User with the acme extension", u)
	}
	acme := u.Extensions[0]
	if !u.Required[acme.ID] {
		t.Errorf("User.Required = %v, want the acme extension required", u.Required)
	}
	badge, level, site := acme.Attr("badge"), acme.Attr("level"), acme.Attr("site")
	if badge == nil || badge.Type != scim.String || badge.Uniqueness != scim.UniqueServer || badge.Mutability != scim.ReadWrite ||
		badge.Returned != scim.ByDefault {
		t.Errorf("badge = %+v, want a readWrite string, unique per server, returned by default", badge)
	}
	if level == nil || level.Type != scim.Integer || level.Mutability != scim.ReadOnly || level.Returned != scim.Always {
		t.Errorf("level = %+v, want a readOnly integer, always returned", level)
	}
	if site == nil || site.Sub("code") == nil || !site.Sub("code").CaseExact {
		t.Errorf("site = %+v, want a complex with the caseExact code", site)
	}
	if _, _, _, ok := u.Resolve(scim.ParsePath(acme.ID + ":site.code")); !ok {
		t.Errorf("the acme site.code does not resolve in User")
	}
	if d.ID != "Device" || d.Name != "Device" || d.Endpoint != "/Devices" || d.Schema.Attr("serial") == nil {
		t.Errorf("Device = %+v, want the served Device schema", d)
	}
}

func TestDiscoverFailures(t *testing.T) {
	rtDoc := func(endpoint, schema, ext string) string {
		s := `{"id": "User", "endpoint": "` + endpoint + `", "schema": "` + schema + `"`
		if ext != "" {
			s += `, "schemaExtensions": [{"schema": "` + ext + `"}]`
		}
		return "[" + s + "}]"
	}
	user := "urn:ietf:params:scim:schemas:core:2.0:User"
	tests := []struct {
		name string
		docs map[string]answer
		want string
	}{
		{"no service provider config", map[string]answer{},
			"GET /ServiceProviderConfig: status 404: not served; check baseURL, or declare the capabilities"},
		{"login page", map[string]answer{"/ServiceProviderConfig": {200, html, "<html>sign in</html>"}},
			"GET /ServiceProviderConfig: not a JSON object"},
		{"bad boolean", map[string]answer{"/ServiceProviderConfig": ok(`{"sort": {"supported": "maybe"}}`)},
			"GET /ServiceProviderConfig: want a boolean"},
		{"server error", map[string]answer{"/ServiceProviderConfig": {500, nil, ""}},
			"GET /ServiceProviderConfig: status 500"},
		{"resource types refused", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": {403, nil, ""}}, "GET /ResourceTypes: status 403: the upstream refused the gateway's credentials"},
		{"resource types not JSON", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(`{"Resources": [`)}, "GET /ResourceTypes: not valid JSON"},
		{"resource types wrong shape", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(`{"Resources": {"id": "User"}}`)}, "GET /ResourceTypes: want an array, got a JSON object"},
		{"schemas failing", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(userAndGroup), "/Schemas": {500, nil, ""}}, "GET /Schemas: status 500"},
		{"schema with a bad type", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(userAndGroup), "/Schemas": ok(`[{"id": "urn:x", "attributes": [{"name": "a", "type": "uuid"}]}]`)},
			`GET /Schemas: schema urn:x: attribute a: unknown type "uuid"`},
		{"schema without an id", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(userAndGroup), "/Schemas": ok(`[{"attributes": []}]`)}, "GET /Schemas: schema 0 has no id"},
		{"schema attribute wrong shape", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(userAndGroup), "/Schemas": ok(`[{"id": "urn:x", "attributes": [{"name": 1}]}]`)},
			"GET /Schemas: attributes.name: want a string, got a JSON number"},
		{"undescribed extension", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(rtDoc("/Users", user, "urn:example:ext"))},
			`resource type User: extension "urn:example:ext" has no definition at /Schemas`},
		{"absolute endpoint", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(rtDoc("https://elsewhere.example.com/Users", user, ""))},
			"GET /ResourceTypes: User: endpoint: want a relative path"},
		{"dot segments", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(rtDoc("/../admin", user, ""))}, "GET /ResourceTypes: User: endpoint: want a relative path"},
		{"no endpoint", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(rtDoc("", user, ""))}, "GET /ResourceTypes: User: endpoint: required"},
		{"listed twice", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(`[{"id": "User", "endpoint": "/Users", "schema": "` + user + `"},
				{"id": "user", "endpoint": "/People", "schema": "` + user + `"}]`)}, "GET /ResourceTypes: user is listed twice"},
		{"nothing describable", map[string]answer{"/ServiceProviderConfig": ok(spcAll),
			"/ResourceTypes": ok(rtDoc("/Things", "urn:example:thing", ""))}, "serves no resource type the gateway can describe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := discoverFrom(t, discoveryUpstream(t, tt.docs))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() = %v, %v; want an error containing %q", a, err, tt.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}
}

// TestDiscoverUnreachable checks the error when nothing listens.
func TestDiscoverUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/scim/v2"
	srv.Close()
	_, err := discoverFrom(t, base)
	if err == nil || !strings.Contains(err.Error(), "upstream: discovery at "+base+": GET /ServiceProviderConfig: 502") {
		t.Errorf("New() error = %v, want a 502 from GET /ServiceProviderConfig", err)
	}
}
