package router_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/router"
)

const (
	challenge        = `Bearer realm="scim-gateway"`
	invalidChallenge = `Bearer realm="scim-gateway", error="invalid_token"`
)

// TestAuth checks the order 401 → 404 (target) / 403 → route, with and
// without anonymous discovery.
func TestAuth(t *testing.T) {
	closed := newFixture(t)
	open := newFixture(t, func(c *router.Config) { c.AnonymousDiscovery = true })

	tests := []struct {
		name          string
		f             *fixture
		method, path  string
		authorization string // the raw header; "" sends none
		want          int
		challenge     string // WWW-Authenticate of a 401
		detail        string // a substring of the error detail
	}{
		{"no credential", closed, "GET", memoryRoot + "/Users", "", 401, challenge, "bearer token is required"},
		{"unknown token", closed, "GET", memoryRoot + "/Users", "Bearer nope", 401, invalidChallenge, "unknown bearer token"},
		{"basic scheme", closed, "GET", memoryRoot + "/Users", "Basic YWRtaW46YWRtaW4=", 401, challenge, ""},
		{"empty bearer", closed, "GET", memoryRoot + "/Users", "Bearer ", 401, challenge, ""},
		{"scheme in lower case", closed, "GET", memoryRoot + "/Users", "bearer " + adminToken, 200, "", ""},
		{"unknown target without credential", closed, "GET", "/targets/nope/scim/v2/Users", "", 401, challenge, ""},
		{"unknown target with bad token", closed, "GET", "/targets/nope/scim/v2/Users", "Bearer nope", 401, invalidChallenge, ""},
		{"unknown target", closed, "GET", "/targets/nope/scim/v2/Users", "Bearer " + adminToken, 404, "", `target "nope" not found`},
		{"unknown route without credential", closed, "GET", memoryRoot + "/Nope", "", 401, challenge, ""},
		{"unreachable target", closed, "GET", memoryRoot + "/Users", "Bearer " + limitedToken, 403, "", `may not reach target "memory"`},
		{"unreachable unknown route", closed, "GET", memoryRoot + "/Nope", "Bearer " + limitedToken, 403, "", ""},
		{"reachable target", closed, "GET", usersRoot + "/Users", "Bearer " + limitedToken, 200, "", ""},
		{"default target", closed, "GET", "/scim/v2/Users", "Bearer " + limitedToken, 200, "", ""},
		{"default target lacks groups", closed, "GET", "/scim/v2/Groups", "Bearer " + limitedToken, 404, "", ""},
		{"no default target", closed, "GET", "/scim/v2/Users", "Bearer " + noDefaultToken, 404, "", "no default target"},
		{"default root without credential", closed, "GET", "/scim/v2/Users", "", 401, challenge, ""},
		{"discovery needs credential", closed, "GET", memoryRoot + "/ServiceProviderConfig", "", 401, challenge, ""},
		{"schemas need credential", closed, "GET", memoryRoot + "/Schemas", "", 401, challenge, ""},

		{"anonymous discovery", open, "GET", memoryRoot + "/ServiceProviderConfig", "", 200, "", ""},
		{"anonymous schemas", open, "GET", usersRoot + "/Schemas", "", 200, "", ""},
		{"anonymous resource types", open, "GET", memoryRoot + "/ResourceTypes/User", "", 200, "", ""},
		{"anonymous resources", open, "GET", memoryRoot + "/Users", "", 401, challenge, ""},
		{"anonymous create", open, "POST", memoryRoot + "/Users", "", 401, challenge, ""},
		{"anonymous bulk", open, "POST", memoryRoot + "/Bulk", "", 401, challenge, ""},
		{"anonymous unknown route", open, "GET", memoryRoot + "/Nope", "", 401, challenge, ""},
		{"anonymous wrong method on discovery", open, "DELETE", memoryRoot + "/Schemas", "", 401, challenge, ""},
		{"anonymous default root", open, "GET", "/scim/v2/ServiceProviderConfig", "", 401, challenge, ""},
		{"anonymous unknown target", open, "GET", "/targets/nope/scim/v2/ServiceProviderConfig", "", 404, "", ""},
		{"bad token on open discovery", open, "GET", memoryRoot + "/ServiceProviderConfig", "Bearer nope", 401, invalidChallenge, ""},
		{"unreachable open discovery", open, "GET", memoryRoot + "/ServiceProviderConfig", "Bearer " + limitedToken, 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := req{method: tt.method, path: tt.path}
			if tt.authorization != "" {
				rq.header = map[string]string{"Authorization": tt.authorization}
			}
			r := tt.f.do(t, rq)
			if tt.want < 400 {
				if r.status != tt.want {
					t.Fatalf("status = %d, want %d\n%s", r.status, tt.want, r.body)
				}
				return
			}
			checkError(t, r, tt.want, "")
			if got := r.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if d := str(r.json(t), "detail"); !strings.Contains(d, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d, tt.detail)
			}
		})
	}
}

// TestTokensNeverLogged checks that neither a good nor a bad token reaches
// the log.
func TestTokensNeverLogged(t *testing.T) {
	f := newFixture(t)
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users", token: adminToken}, http.StatusOK)
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users", token: "a-wrong-token-value"}, http.StatusUnauthorized)
	logs := f.logs.String()
	for _, secret := range []string{adminToken, "a-wrong-token-value"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains the token %q:\n%s", secret, logs)
		}
	}
}
