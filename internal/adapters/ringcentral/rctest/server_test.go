package rctest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestRoutesRingCentralDoesNotHaveAre404(t *testing.T) {
	c := newClient(t)
	for _, p := range []string{"/Groups", "/Groups/1", "/Bulk", "/Me", "/Users/1/x", "/Users/", "/scim/v2", "/scim/Users", "/restapi/v1.0/account/~"} {
		t.Run(p, func(t *testing.T) {
			method := http.MethodGet
			if p == "/Bulk" {
				method = http.MethodPost
			}
			r := c.do(method, p, nil)
			r.wantSCIMError(t, http.StatusNotFound, "")
		})
	}
}

func TestHealthNeedsNoToken(t *testing.T) {
	c := newClient(t)
	c.token = ""
	for _, p := range []string{"/scim/v2/health", "/scim/health"} {
		r := c.do(http.MethodGet, p, nil).want(t, http.StatusOK)
		if r.header.Get("X-Rate-Limit-Group") != "" {
			t.Errorf("%s: health is rate-limited: %v", p, r.header)
		}
	}
	if got := c.srv.Requests(); len(got) != 2 || got[0].Group != "" || got[0].Status != http.StatusOK {
		t.Errorf("Requests() = %+v", got)
	}
}

func TestBearerTokenIsRequired(t *testing.T) {
	c := newClient(t)
	good := c.token
	tests := []struct {
		name, auth, code string
	}{
		{"no header", "", CodeInvalidToken},
		{"unknown token", "Bearer nope", CodeInvalidToken},
		{"basic scheme", "Basic " + good, CodeInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.token = ""
			hdr := http.Header{}
			if tt.auth != "" {
				hdr.Set("Authorization", tt.auth)
			}
			r := c.doHeader(http.MethodGet, "/Users", nil, hdr)
			r.wantPlatformError(t, http.StatusUnauthorized, tt.code)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	c.token = ""
	// The access_token query parameter works too (VENDORS.md 2.2).
	c.do(http.MethodGet, "/scim/v2/Users?access_token="+good, nil).want(t, http.StatusOK)
	c.token = good
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	c.srv.ExpireTokens()
	c.do(http.MethodGet, "/Users", nil).wantPlatformError(t, http.StatusUnauthorized, CodeTokenExpired)
	c.token = c.srv.IssueToken()
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
}

func TestSCIMAuthErrorsOption(t *testing.T) {
	c := newClient(t, WithSCIMAuthErrors())
	c.token = "nope"
	c.do(http.MethodGet, "/Users", nil).wantSCIMError(t, http.StatusUnauthorized, "")
}

func TestPermissions(t *testing.T) {
	c := newClient(t)
	c.token = c.srv.IssueScopedToken(PermissionReadAccounts)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	c.do(http.MethodPost, "/Users", newUser("a@example.com")).wantSCIMError(t, http.StatusForbidden, "")
	c.token = c.srv.IssueScopedToken()
	c.do(http.MethodGet, "/Users", nil).wantSCIMError(t, http.StatusForbidden, "")
}

func TestMethodNotAllowed(t *testing.T) {
	c := newClient(t)
	r := c.do(http.MethodDelete, "/Users", nil)
	r.wantSCIMError(t, http.StatusMethodNotAllowed, "")
	if r.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	c.do(http.MethodGet, "/Users/.search", nil).wantSCIMError(t, http.StatusMethodNotAllowed, "")
	c.do(http.MethodPost, "/ServiceProviderConfig", "{}").wantSCIMError(t, http.StatusMethodNotAllowed, "")
}

func TestContentTypes(t *testing.T) {
	c := newClient(t)
	r := c.do(http.MethodGet, "/Users", nil)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	r = c.doHeader(http.MethodGet, "/Users", nil, http.Header{"Accept": {"application/scim+json"}})
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("Content-Type %q for Accept: application/scim+json", ct)
	}
	c.doHeader(http.MethodPost, "/Users", "x=1", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}).
		wantSCIMError(t, http.StatusUnsupportedMediaType, "")
}

func TestDiscovery(t *testing.T) {
	c := newClient(t)
	spc := c.do(http.MethodGet, "/ServiceProviderConfig", nil).want(t, http.StatusOK)
	if p, _ := spc.body["patch"].(map[string]any); p["supported"] != false {
		t.Errorf("SPC patch %v: the simulator serves the vendor's unreliable SPC", p)
	}
	rts := c.do(http.MethodGet, "/ResourceTypes", nil).want(t, http.StatusOK)
	if rts.body["totalResults"] != float64(1) {
		t.Errorf("ResourceTypes %s, want only User", rts.raw)
	}
	c.do(http.MethodGet, "/ResourceTypes/User", nil).want(t, http.StatusOK)
	c.do(http.MethodGet, "/ResourceTypes/Group", nil).wantSCIMError(t, http.StatusNotFound, "")
	c.do(http.MethodGet, "/Schemas", nil).want(t, http.StatusOK)
	c.do(http.MethodGet, "/Schemas/"+scim.EnterpriseUserSchema, nil).want(t, http.StatusOK)
	c.do(http.MethodGet, "/Schemas/"+scim.GroupSchema, nil).wantSCIMError(t, http.StatusNotFound, "")
	c.token = ""
	c.do(http.MethodGet, "/ServiceProviderConfig", nil).wantPlatformError(t, http.StatusUnauthorized, CodeInvalidToken)
}
