package webextest

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestAuthAndScopes(t *testing.T) {
	srv := NewServer(t)
	read := srv.IssueToken(ScopePeopleRead)
	rw := srv.IssueToken(ScopePeopleRW)
	other := srv.IssueToken("spark:people_read")
	tests := []struct {
		name, method, path, token string
		status                    int
	}{
		{"no token", "GET", "/Users", "", 401},
		{"unknown token", "GET", "/Users", "nope", 401},
		{"read with read scope", "GET", "/Users", read, 200},
		{"read with rw scope", "GET", "/Users", rw, 200},
		{"read without scope", "GET", "/Users", other, 403},
		{"write with read scope", "POST", "/Users", read, 403},
		{"bulk with read scope", "POST", "/Bulk", read, 403},
		{"delete with read scope", "DELETE", "/Users/x", read, 403},
		{"members with read scope", "GET", "/Groups/x/Members", read, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, srv: srv, token: tt.token}
			var body any
			if tt.method == "POST" {
				body = user("s@example.com")
			}
			r := c.do(tt.method, tt.path, body)
			switch tt.status {
			case 401, 403:
				r.wantPlatformError(t, tt.status)
			case 404:
				r.wantSCIMError(t, 404, "")
			default:
				r.want(t, tt.status)
			}
		})
	}
	c := &client{t: t, srv: srv}
	if r := c.do("GET", "/Users", nil); !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %v", r.header)
	}
	srv.ExpireTokens()
	(&client{t: t, srv: srv, token: rw}).do("GET", "/Users", nil).wantPlatformError(t, 401)
}

func TestRouting(t *testing.T) {
	c := newClient(t)
	base := "/identity/scim/" + c.srv.OrgID() + "/v2"
	tests := []struct {
		name, method, path string
		status             int
		platform           bool
	}{
		{"users", "GET", base + "/Users", 200, false},
		{"groups", "GET", base + "/Groups", 200, false},
		{"org id in upper case", "GET", "/identity/scim/" + strings.ToUpper(c.srv.OrgID()) + "/v2/Users", 200, false},
		{"another org", "GET", "/identity/scim/0ae87ade-8c8a-4952-af08-318798958d0c/v2/Users", 403, true},
		{"no version", "GET", "/identity/scim/" + c.srv.OrgID() + "/Users", 404, true},
		{"v1 path", "GET", "/v1/people", 404, true},
		{"service provider config", "GET", base + "/ServiceProviderConfig", 404, true},
		{"resource types", "GET", base + "/ResourceTypes", 404, true},
		{"schemas", "GET", base + "/Schemas", 404, true},
		{"search endpoint", "POST", base + "/Users/.search", 404, true},
		{"trailing slash", "GET", base + "/Users/", 404, true},
		{"nested unknown", "GET", base + "/Users/x/y", 404, true},
		{"unknown user", "GET", base + "/Users/x", 404, false},
		{"put on collection", "PUT", base + "/Users", 405, true},
		{"post on bulk only", "GET", base + "/Bulk", 405, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(tt.method, tt.path, nil)
			switch {
			case tt.status == 200:
				r.want(t, 200)
			case tt.platform:
				r.wantPlatformError(t, tt.status)
			default:
				r.wantSCIMError(t, tt.status, "")
			}
		})
	}
}

func TestTrackingID(t *testing.T) {
	c := newClient(t)
	r := c.doHeader("GET", "/Users/none", nil, http.Header{"Trackingid": {"SIMPLE_1234"}})
	if r.header.Get("TrackingID") != "SIMPLE_1234" {
		t.Errorf("TrackingID %q, want the request's", r.header.Get("TrackingID"))
	}
	r.wantSCIMError(t, 404, "")
	if r := c.do("GET", "/Users", nil); !strings.HasPrefix(r.header.Get("TrackingID"), "SIMULATOR_") {
		t.Errorf("generated TrackingID %q", r.header.Get("TrackingID"))
	}
}

func TestBareErrors(t *testing.T) {
	c := newClient(t, WithBareErrors())
	r := c.do("GET", "/Users/none", nil).want(t, 404)
	if _, ok := r.body["detail"]; ok {
		t.Errorf("bare error has detail: %s", r.raw)
	}
	if ext, _ := r.body[CiscoErrorExtension].(map[string]any); ext["details"] == "" || ext["errorCode"] == "" {
		t.Errorf("bare error lost the Cisco extension: %s", r.raw)
	}
}

func TestBadBodies(t *testing.T) {
	c := newClient(t)
	c.do("POST", "/Users", "{").wantSCIMError(t, 400, scim.InvalidSyntax)
	c.do("POST", "/Users", "[]").wantSCIMError(t, 400, scim.InvalidSyntax)
	c.do("POST", "/Groups", "null").wantSCIMError(t, 400, scim.InvalidSyntax)
	c.do("POST", "/Bulk", `"x"`).wantSCIMError(t, 400, scim.InvalidSyntax)
	c.doHeader("POST", "/Users", "a=b", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}).
		wantPlatformError(t, http.StatusUnsupportedMediaType)
	c.doHeader("POST", "/Users", user("ct@example.com"), http.Header{"Content-Type": {"application/scim+json"}}).
		want(t, http.StatusCreated)
}

func TestRequestsAreRecorded(t *testing.T) {
	c := newClient(t)
	c.create("/Users", user("rec@example.com"))
	c.do("GET", "/Users?filter=userName+eq+%22rec@example.com%22", nil)
	reqs := c.srv.Requests()
	if len(reqs) != 2 || reqs[0].Method != "POST" || !strings.Contains(string(reqs[0].Body), "rec@example.com") ||
		reqs[1].RawQuery != "filter=userName+eq+%22rec@example.com%22" || reqs[1].Path != "/identity/scim/"+c.srv.OrgID()+"/v2/Users" {
		t.Errorf("recorded %+v", reqs)
	}
	if reqs[0].Header.Get("Authorization") == "" {
		t.Error("headers not recorded")
	}
	c.srv.ResetRequests()
	if len(c.srv.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}
}

// TestConcurrentWrites runs creates, patches, lists and deletes at once;
// the race detector checks the locking, the counts check the outcome.
func TestConcurrentWrites(t *testing.T) {
	c := newClient(t)
	gid := c.create("/Groups", group("all"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := "c" + string(rune('a'+i)) + "@example.com"
			id := c.create("/Users", user(name))
			c.do("PATCH", "/Groups/"+gid, map[string]any{"schemas": []any{scim.PatchOpSchema},
				"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}}}).want(t, 200)
			c.do("GET", "/Users?includeGroupDetails=true", nil).want(t, 200)
			c.do("GET", "/Groups/"+gid+"/Members", nil).want(t, 200)
			if i%2 == 0 {
				c.do("DELETE", "/Users/"+id, nil).want(t, 204)
			}
		})
	}
	wg.Wait()
	if n := c.srv.Count("User"); n != 4 {
		t.Errorf("Count(User) = %d, want 4", n)
	}
	r := c.do("GET", "/Groups/"+gid+"/Members", nil).want(t, 200)
	if num(r.body["memberSize"]) != 4 {
		t.Errorf("memberSize %v, want 4 (deleted users leave their groups)", r.body["memberSize"])
	}
}
